// node:http for processes that care about their footprint. An ES `import ...
// from 'node:http'` builds a module namespace by reading every export, and
// node:http's WebSocket, CloseEvent and MessageEvent exports are getters that
// load undici (Node's fetch): about 14 MB of RSS in a process that never uses
// them. process.getBuiltinModule returns the same module object without
// reading them. Types still come from `import type ... from 'node:http'`.
const http = process.getBuiltinModule('node:http') as typeof import('node:http');

export const { createServer, request } = http;
