// The deployment files as data: docker-compose.yml, deploy/swarm/stack.yml and
// every object of deploy/kubernetes/*.yaml, parsed (YAML 1.1 merge keys on, as
// Docker's compose loader reads them).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import type { ManifestObject } from './kubernetes-typecheck.ts';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const KUBERNETES_DIR = `${REPO}deploy/kubernetes/`;

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML is read field by field, with assertions.
export type Yaml = any;

export function readYaml(path: string): Yaml {
  return parse(readFileSync(`${REPO}${path}`, 'utf8'), { merge: true });
}

export const composeFile = (): Yaml => readYaml('docker-compose.yml');
export const stackFile = (): Yaml => readYaml('deploy/swarm/stack.yml');

/** Every object of every manifest file, in file order. */
export function kubernetesObjects(): ManifestObject[] {
  const objects: ManifestObject[] = [];
  for (const file of readdirSync(KUBERNETES_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    for (const document of parseAllDocuments(readFileSync(KUBERNETES_DIR + file, 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]?.message}`);
      const body = document.toJS() as Record<string, unknown> | null;
      if (!body) continue;
      const metadata = body.metadata as { name?: string } | undefined;
      objects.push({
        file: `deploy/kubernetes/${file}`,
        apiVersion: String(body.apiVersion),
        kind: String(body.kind),
        name: metadata?.name ?? '(unnamed)',
        body,
      });
    }
  }
  return objects;
}

/** The one object of a kind and name; throws naming what is missing. */
export function kubernetesObject(kind: string, name: string): Yaml {
  const found = kubernetesObjects().find((o) => o.kind === kind && o.name === name);
  if (!found) throw new Error(`deploy/kubernetes has no ${kind} named ${name}`);
  return found.body;
}
