import { writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CorralError, errnoText } from '../../cli/errors';

/** Writes value to dir/file; an error names the config field, the file and the value. */
export function writeCg(dir: string, file: string, value: string | number, field: string): void {
  const path = join(dir, file);
  try {
    writeFileSync(path, String(value));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const why = code === 'ENOENT' && !existsSync(path) ? 'not supported by this host (no such file)' : errnoText(code);
    throw new CorralError(`${field}: cannot set ${path} to ${JSON.stringify(String(value))}: ${why}`);
  }
}
