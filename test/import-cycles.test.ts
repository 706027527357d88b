// No module in src/ imports itself back, directly or through others, not even
// for types: a circle makes load order matter (a class read before its module
// ran is undefined) and ties modules that should change alone. A failure
// names every circle as a path of modules.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findCycles, type ImportGraph, readImportGraph, staticImports } from './support/import-graph.ts';

const SRC = fileURLToPath(new URL('../src', import.meta.url));

const graphOf = (edges: Record<string, string[]>): ImportGraph => new Map(Object.entries(edges));

describe('import cycles', () => {
  describe('reading imports', () => {
    it('counts value, type-only and re-export imports, and bare imports', () => {
      const source = [
        "import { a } from './a.ts';",
        "import type { B } from '../b.ts';",
        'import {',
        '  type C,',
        '  c,',
        "} from './c.ts';",
        "export { d } from './d.ts';",
        "export type { E } from './e.ts';",
        "export * from './f.ts';",
        "import './g.ts';",
      ].join('\n');
      assert.deepEqual(staticImports(source), [
        './a.ts',
        '../b.ts',
        './c.ts',
        './d.ts',
        './e.ts',
        './f.ts',
        './g.ts',
      ]);
    });

    it('ignores packages, dynamic imports, and import-like text in comments and strings', () => {
      const source = [
        "import { readFileSync } from 'node:fs';",
        "import pino from 'pino';",
        "// import { x } from './commented.ts';",
        'const text = "import { y } from \'./quoted.ts\'";',
        "const later = () => import('./dynamic.ts');",
      ].join('\n');
      assert.deepEqual(staticImports(source), []);
    });
  });

  describe('finding cycles', () => {
    it('finds none in a graph without one', () => {
      const graph = graphOf({ 'a.ts': ['b.ts', 'c.ts'], 'b.ts': ['c.ts'], 'c.ts': [] });
      assert.deepEqual(findCycles(graph), []);
    });

    it('names a two-module circle from its first module back to it', () => {
      const graph = graphOf({ 'x/state-sync.ts': ['x/core.ts'], 'x/core.ts': ['x/state-sync.ts'] });
      assert.deepEqual(findCycles(graph), [['x/core.ts', 'x/state-sync.ts', 'x/core.ts']]);
    });

    it('names a module that imports itself', () => {
      assert.deepEqual(findCycles(graphOf({ 'a.ts': ['a.ts'] })), [['a.ts', 'a.ts']]);
    });

    it('reports each separate circle once, by a shortest path through it', () => {
      const graph = graphOf({
        'a.ts': ['b.ts'],
        'b.ts': ['c.ts', 'a.ts'],
        'c.ts': ['a.ts'],
        'd.ts': ['e.ts'],
        'e.ts': ['f.ts'],
        'f.ts': ['d.ts'],
        'g.ts': ['a.ts'],
      });
      assert.deepEqual(findCycles(graph), [
        ['a.ts', 'b.ts', 'a.ts'],
        ['d.ts', 'e.ts', 'f.ts', 'd.ts'],
      ]);
    });
  });

  it('src/ has no import cycle', () => {
    const graph = readImportGraph(SRC);
    // The graph was read at all: a wrong root would pass vacuously.
    assert.ok(graph.size > 50, `only ${graph.size} modules found under ${SRC}`);
    assert.ok(
      [...graph.values()].some((targets) => targets.length > 0),
      'no import edges found',
    );
    const cycles = findCycles(graph).map((cycle) => cycle.join(' -> '));
    assert.deepEqual(cycles, [], `import cycles in src/:\n  ${cycles.join('\n  ')}`);
  });
});
