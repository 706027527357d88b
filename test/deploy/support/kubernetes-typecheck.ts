// Offline, strict validation of Kubernetes manifests: every object becomes a
// typed literal (`const o: Deployment = {...}`) checked by the TypeScript
// compiler against the `kubernetes-types` package (the API's OpenAPI types).
// Fresh object literals get excess-property checks, so an unknown field is an
// error just like a wrong type, at any depth. No API server is needed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** One object of a manifest file, as parsed from YAML. */
export interface ManifestObject {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  body: Record<string, unknown>;
}

export interface ManifestError {
  file: string;
  object: string;
  message: string;
}

// apiVersion -> the kubernetes-types module that declares its kinds.
const MODULES: Record<string, string> = {
  v1: 'core/v1',
  'apps/v1': 'apps/v1',
  'batch/v1': 'batch/v1',
  'policy/v1': 'policy/v1',
  'networking.k8s.io/v1': 'networking/v1',
  'rbac.authorization.k8s.io/v1': 'rbac/v1',
};

/** Where kubernetes-types is installed; a clear error when it is not. */
export function kubernetesTypesDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('kubernetes-types/package.json'));
  } catch {
    throw new Error(
      'the kubernetes-types package is not installed: it is a devDependency of this project (run npm ci)',
    );
  }
}

/** Type-check every object; [] when all are valid. */
export function typecheckManifests(objects: ManifestObject[]): ManifestError[] {
  const errors: ManifestError[] = [];
  const imports = new Map<string, string>();
  // Generated line (after the imports) where each object's declaration starts.
  const declarations: { line: number; object: ManifestObject }[] = [];
  const body: string[] = [];
  let lines = 0;
  for (const object of objects) {
    const module = MODULES[object.apiVersion];
    if (!module) {
      errors.push({
        file: object.file,
        object: label(object),
        message: `no API types for ${object.apiVersion}`,
      });
      continue;
    }
    const alias = module.replace(/[^a-z0-9]/g, '_');
    imports.set(alias, module);
    declarations.push({ line: lines, object });
    const declaration = `export const o${declarations.length}: ${alias}.${object.kind} = ${JSON.stringify(object.body, null, 2)};`;
    body.push(declaration);
    lines += declaration.split('\n').length;
  }
  const header = [...imports].map(
    ([alias, module]) => `import type * as ${alias} from 'kubernetes-types/${module}';`,
  );
  const source = [...header, ...body].join('\n');
  const headerLines = header.length;
  const dir = mkdtempSync(join(tmpdir(), 'k8s-typecheck-'));
  try {
    const file = join(dir, 'manifests.ts');
    writeFileSync(file, source);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      types: [],
      // The API types need only ES5's; checking fewer and trusted .d.ts files keeps this quick.
      lib: ['lib.es5.d.ts'],
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      baseUrl: dir,
      paths: { 'kubernetes-types/*': [`${kubernetesTypesDir()}/*`] },
    });
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
      if (!diagnostic.file || diagnostic.start === undefined) {
        errors.push({ file: '(compiler)', object: '', message });
        continue;
      }
      const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line - headerLines;
      const owner = declarations.findLast((d) => d.line <= line)?.object;
      errors.push({
        file: owner?.file ?? '(generated)',
        object: owner ? label(owner) : '',
        message: `${message} (at ${diagnostic.file.text.slice(diagnostic.start, diagnostic.start + (diagnostic.length ?? 0))})`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return errors;
}

function label(object: ManifestObject): string {
  return `${object.kind} ${object.name}`;
}
