// The package version, read once from package.json (the single source of truth).
import { readFileSync } from './platform/node-fs.ts';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const VERSION: string = manifest.version;
