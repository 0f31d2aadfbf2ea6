// The errno table (src/base/errno.ts): Go's wording, the numbers Node knows, and the same
// words from corral-init, which prints them from the header generated out of the table.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { ERRNO, errnoText } from '../../src/base/errno';

t.test('the words messages (and the tests matching them) have always used', async (t) => {
  const words: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EEXIST: 'file exists',
    ENOTDIR: 'not a directory',
    EISDIR: 'is a directory',
    EINVAL: 'invalid argument',
    EBUSY: 'device or resource busy',
    ESRCH: 'no such process',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
    ENOTEMPTY: 'directory not empty',
    ENODEV: 'no such device',
    EOPNOTSUPP: 'operation not supported',
    ENOTSUP: 'operation not supported',
    ERANGE: 'numerical result out of range',
    EAGAIN: 'resource temporarily unavailable',
  };
  for (const [code, text] of Object.entries(words)) t.equal(errnoText(code), text, code);
  t.equal(errnoText('EDOTDOT'), 'RFS specific error', 'a capital after the first letter keeps it, as in Go');
  t.equal(errnoText('UNKNOWN'), 'unknown', 'a code not in the table, lower-cased');
  t.equal(errnoText('constructor'), 'constructor', 'not an Object.prototype member');
});

t.test('the numbers are the ones Node was built with (<errno.h>)', async (t) => {
  const node = constants.errno as Record<string, number>;
  const known = Object.keys(ERRNO).filter((name) => name in node);
  t.ok(known.length > 70, `Node knows ${known.length} of the names`);
  for (const name of known) t.equal(ERRNO[name][0], node[name], name);
});

t.test("corral-init prints the table's words for every number (errno-text)", async (t) => {
  const helper = join(__dirname, '../../dist/corral-init');
  if (!t.ok(existsSync(helper), 'dist/corral-init is built (make test builds it)')) return;
  const want = new Map<number, string>();
  for (const [n, text] of Object.values(ERRNO)) want.set(n, text);
  want.set(200, 'unknown error'); // beyond the table and glibc: the fallback
  const numbers = [...want.keys()];
  const r = spawnSync(helper, ['errno-text', ...numbers.map(String)]);
  t.equal(r.status, 0, r.stderr.toString());
  const got = r.stdout.toString().trimEnd().split('\n');
  t.same(
    got,
    numbers.map((n) => `${n} ${want.get(n)}`),
    'line for line',
  );
});
