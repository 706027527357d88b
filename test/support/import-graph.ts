// The static import graph of a source tree, and the cycles in it. Edges are
// what a module needs before it can load or type-check: `import ... from`,
// `import type ... from`, `export ... from` and bare `import '...'`, relative
// specifiers only (packages cannot import us back). Dynamic `import()` is not
// an edge: it runs later and is how a real cycle is deliberately broken.
// Parsed with the TypeScript compiler's own parser, so comments and strings
// that look like imports are not mistaken for them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Module (path relative to the tree's root, '/'-separated) -> modules it imports, sorted. */
export type ImportGraph = Map<string, string[]>;

/** The relative module specifiers a TypeScript source imports or re-exports statically. */
export function staticImports(source: string, fileName = 'module.ts'): string[] {
  const file = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  for (const statement of file.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const specifier = statement.moduleSpecifier;
    if (specifier && ts.isStringLiteral(specifier) && specifier.text.startsWith('.')) {
      specifiers.push(specifier.text);
    }
  }
  return specifiers;
}

/** Every `.ts` file under `root` (declaration files excluded) with its static imports inside `root`. */
export function readImportGraph(root: string): ImportGraph {
  const absoluteRoot = resolve(root);
  const files = listTypeScript(absoluteRoot);
  const known = new Set(files);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const targets = new Set<string>();
    for (const specifier of staticImports(readFileSync(file, 'utf8'), file)) {
      const target = resolve(dirname(file), specifier);
      if (known.has(target)) targets.add(toKey(absoluteRoot, target));
    }
    graph.set(toKey(absoluteRoot, file), [...targets].sort());
  }
  return graph;
}

function listTypeScript(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTypeScript(path));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

const toKey = (root: string, file: string) => relative(root, file).split('\\').join('/');

/**
 * One cycle per strongly connected component that has one (Tarjan), each as
 * the modules along it from its smallest name, back to that name: a circle
 * through several modules is reported once, by one concrete path through it.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  // Iterative, so a long import chain cannot overflow the call stack.
  const visit = (start: string) => {
    const frames: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const targets = graph.get(frame.node) ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!index.has(target)) {
          index.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          frames.push({ node: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
        }
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);

  const cycles: string[][] = [];
  for (const component of components) {
    const members = new Set(component);
    const first = [...component].sort()[0]!;
    const selfLoop = (graph.get(first) ?? []).includes(first);
    if (component.length === 1 && !selfLoop) continue;
    cycles.push(pathBack(graph, first, members));
  }
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** Shortest path from `start` back to itself within one component (breadth first). */
function pathBack(graph: ImportGraph, start: string, members: Set<string>): string[] {
  const cameFrom = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i]!;
    for (const target of graph.get(node) ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = node; at !== start; at = cameFrom.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  // Unreachable: every member of a component with a cycle lies on a path back to itself.
  throw new Error(`no cycle through ${start}`);
}
