// What a partition looks like before any network is touched: the groups
// parsed from the command line (`peer-1,peer-2/peer-3,peer-4,peer-5` or
// `isolate peer-2`), resolved to containers, every peer on exactly one side,
// and the side(s) the enclave joins.
import { UsageError } from '../errors.ts';
import { type ClusterContainer, peersOf } from './cluster-inventory.ts';
import type { StatusReader } from './peer-status.ts';
import { resolveTarget } from './targets.ts';

export interface PartitionSpec {
  /** Names per group; with `isolate`, one group and the rest implied. */
  groups: string[][];
  isolate: boolean;
}

export interface PartitionSide {
  side: string;
  peers: ClusterContainer[];
}

export interface PartitionPlan {
  sides: PartitionSide[];
  /** The enclave container(s) and the sides each joins. */
  enclaves: ClusterContainer[];
  enclaveSides: string[];
}

const EXAMPLE = 'examples: `partition peer-1,peer-2/peer-3,peer-4,peer-5`, `partition isolate peer-2`';

export function sideName(index: number): string {
  return String.fromCharCode(65 + index);
}

function names(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function parsePartitionArgs(args: string[]): PartitionSpec {
  const words = args.map(String).filter((w) => w.trim() !== '');
  if (words.length === 0) throw new UsageError(`name the groups to separate (${EXAMPLE})`);
  if (words[0] === 'isolate') {
    const group = names(words.slice(1).join(','));
    if (group.length === 0) throw new UsageError(`isolate needs at least one peer (${EXAMPLE})`);
    return { groups: [group], isolate: true };
  }
  const groups = words
    .join(',')
    .replace(/,?\/,?/g, '/')
    .split('/')
    .map(names);
  if (groups.length < 2 || groups.length > 26 || groups.some((g) => g.length === 0)) {
    throw new UsageError(`GROUPS must be 2 to 26 non-empty groups separated by '/' (${EXAMPLE})`);
  }
  return { groups, isolate: false };
}

/** `--enclave-side A|B|...|both|all` to the list of sides. */
export function parseEnclaveSide(raw: string, sideCount: number): string[] {
  const all = Array.from({ length: sideCount }, (_, i) => sideName(i));
  const value = raw.trim().toUpperCase();
  if (value === 'BOTH' || value === 'ALL') return all;
  if (all.includes(value)) return [value];
  throw new UsageError(`--enclave-side must be one of ${all.join(', ')}, both; got '${raw}'`);
}

export async function planPartition(
  containers: ClusterContainer[],
  spec: PartitionSpec,
  /** A, B, ..., both; default: A, or B (the others) with isolate. */
  enclaveSide: string | undefined,
  reader: StatusReader,
): Promise<PartitionPlan> {
  const peers = peersOf(containers);
  const seen = new Map<string, string>();
  const sides: PartitionSide[] = [];
  for (const [index, group] of spec.groups.entries()) {
    const side: PartitionSide = { side: sideName(index), peers: [] };
    for (const name of group) {
      const { container } = await resolveTarget(containers, name, { reader });
      if (container.role !== 'peer') {
        throw new UsageError(`${name} is not a peer; place the enclave with --enclave-side`);
      }
      const earlier = seen.get(container.id);
      if (earlier !== undefined) {
        throw new UsageError(`${container.name} is named twice (sides ${earlier} and ${side.side})`);
      }
      seen.set(container.id, side.side);
      side.peers.push(container);
    }
    sides.push(side);
  }
  const rest = peers.filter((p) => !seen.has(p.id));
  if (spec.isolate) {
    if (rest.length === 0) throw new UsageError('isolating every peer leaves nobody on the other side');
    sides.push({ side: sideName(1), peers: rest });
  } else if (rest.length > 0) {
    throw new UsageError(
      `${rest.map((p) => p.name).join(', ')} ${rest.length === 1 ? 'is' : 'are'} in no group: list every peer, or use \`partition isolate ...\``,
    );
  }
  return {
    sides,
    enclaves: containers.filter((c) => c.role === 'enclave'),
    enclaveSides: parseEnclaveSide(enclaveSide ?? (spec.isolate ? 'B' : 'A'), sides.length),
  };
}
