import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CommandMain } from './table';
import { CorralError } from '../base/errors';
import { defaultConfig } from '../spec/default';

export const main: CommandMain<'spec'> = (_g, o) => {
  const file = join(resolve((o.bundle as string | undefined) ?? '.'), 'config.json');
  if (existsSync(file)) throw new CorralError(`File ${file} exists. Remove it first`);
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  writeFileSync(file, JSON.stringify(defaultConfig(!!o.rootless, uid, gid), null, '\t') + '\n');
  return 0;
};
