// node-forge, loaded on first use. Forge makes keys' PEM and X.509
// certificates (`pki init`, the enclave); a peer only verifies, with
// node:crypto, and must not pay forge's ~8 MB of RSS (issue 12). A static
// import would load it into every process that imports a crypto module.
import { createRequire } from 'node:module';
import type forgeModule from 'node-forge';

const require = createRequire(import.meta.url);
let loaded: typeof forgeModule | undefined;

export function forge(): typeof forgeModule {
  loaded ??= require('node-forge') as typeof forgeModule;
  return loaded;
}
