// The status table people read: one row per peer, then the summary line.
import type { ClusterContainer } from './cluster-inventory.ts';
import { formatDuration } from './duration.ts';
import { aliveMembers, droppedTotal, leaseLeftMs, type PeerStatus } from './peer-status.ts';
import { type PeerReport, summaryLine } from './status-report.ts';

const HEADERS = [
  'CONTAINER',
  'NAME',
  'STATE',
  'MEMBERS',
  'LEADER',
  'EPOCH',
  'LEASE LEFT',
  'ENCLAVE',
  'DROPPED',
];

function enclaveCell(status: PeerStatus): string {
  const enclave = status.enclave;
  if (!enclave) return '-';
  if (enclave.trusted === true) return 'trusted';
  if (enclave.trusted === false) return 'UNTRUSTED';
  return enclave.error ? 'unreachable' : 'pending';
}

function leaderCells(status: PeerStatus, now: number): [string, string, string] {
  const leader = status.leader;
  if (!leader) return ['-', '-', '-'];
  const marks = `${status.isLeader ? '*' : ''}${leader.verified === false ? ' (unverified)' : ''}`;
  const left = leaseLeftMs(leader, now);
  const lease = left === undefined ? '-' : left <= 0 ? 'expired' : formatDuration(left);
  return [`${leader.name}${marks}`, String(leader.epoch), lease];
}

function statusRow(report: PeerReport, now: number): string[] {
  const head = [report.container, report.name, report.state];
  const status = report.status;
  if (!status) return [...head, '-', '-', '-', '-', '-', '-'];
  const members = aliveMembers(status);
  return [
    ...head,
    members === undefined ? '-' : String(members),
    ...leaderCells(status, now),
    enclaveCell(status),
    String(droppedTotal(status)),
  ];
}

function renderTable(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Table, the other containers (enclave: running), the errors of peers that did not answer, and the summary line. */
export function renderStatus(
  reports: PeerReport[],
  now: number,
  others: Pick<ClusterContainer, 'name' | 'container' | 'statusText'>[] = [],
): string {
  const lines = [renderTable([HEADERS, ...reports.map((r) => statusRow(r, now))])];
  if (others.length > 0)
    lines.push('', ...others.map((c) => `${c.name}: ${c.statusText} (container ${c.container})`));
  const errors = reports.filter((r) => r.error !== null && r.state === 'running');
  if (errors.length > 0) lines.push('', ...errors.map((r) => `${r.name}: ${r.error}`));
  lines.push('', summaryLine(reports, now));
  return `${lines.join('\n')}\n`;
}
