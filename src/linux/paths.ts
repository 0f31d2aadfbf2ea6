// Where corral's build outputs are: everything sits next to the bundle in dist/.
import { join } from 'node:path';

// (Run from the TypeScript sources, as unit tests do, they are in ../../dist.)
const distDir = __dirname.endsWith('/src/linux') ? join(__dirname, '../../dist') : __dirname;
export const helperPath = join(distDir, 'corral-init');
export const addonPath = join(distDir, 'corral.node');
