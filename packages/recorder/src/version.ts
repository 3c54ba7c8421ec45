import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The recorder's version, written into every recording. */
export const VERSION: string = (require('../package.json') as { version: string }).version;
