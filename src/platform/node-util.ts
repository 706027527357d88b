// node:util for processes that care about their footprint, as src/http/node-http.ts
// does for node:http: an ES `import ... from 'node:util'` builds a module namespace by
// reading every export, and node:util's getters load parseArgs' and diff's modules
// among others. With node:fs, node:util and node:crypto taken this way a peer loads 13
// fewer built-in modules and holds about 0.6 MB less (the footprint bench). Types still
// come from `import type ... from 'node:util'`. Add a name here to use it.
const nodeUtil = process.getBuiltinModule('node:util') as typeof import('node:util');

export const { parseArgs } = nodeUtil;
