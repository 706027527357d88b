// Preloaded with `node --import` to record every module a process loads: on
// SIGUSR2 (and on exit) it writes their URLs, one a line, to $RECORD_MODULES_TO. Tests use it
// to prove a process kind keeps out code it does not run (e.g. no dockerode
// in a peer). The load hook sees ES modules and require() alike.

import { renameSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const target = process.env.RECORD_MODULES_TO;
if (!target) throw new Error('record-modules: set RECORD_MODULES_TO to the file to write');

const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
// Written whole, then renamed: a reader never sees half a list.
const write = () => {
  writeFileSync(`${target}.partial`, [...loaded].join('\n'));
  renameSync(`${target}.partial`, target);
};
// A signal, not exit alone: a long-running process may be killed before it exits cleanly.
process.on('SIGUSR2', write);
process.on('exit', write);
