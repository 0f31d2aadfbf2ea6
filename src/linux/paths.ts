// Where corral's build outputs are: everything sits next to the bundle in dist/.
import { join } from 'node:path';

export const distDir = __dirname;
export const helperPath = join(distDir, 'corral-init');
export const addonPath = join(distDir, 'corral.node');
