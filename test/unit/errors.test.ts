// The ground floor's errors: wrap keeps the cause and the errno, and what users read.
import t from 'tap';
import { openSync } from 'node:fs';
import { CorralError, corralErrorOf, errnoCode, isCorralError } from '../../src/base/errors';
import { NOT_EXIST } from '../../src/base/messages';
import type { Flags } from '../../src/commands/table';

function fsFailure(): unknown {
  try {
    openSync('/nonexistent/corral-errors-test', 'r');
  } catch (e) {
    return e;
  }
  throw new Error('opening a path that does not exist succeeded');
}

t.test('wrap: context first, the cause and its errno kept', async (t) => {
  const e = fsFailure();
  const w = CorralError.wrap('read the config', e);
  t.ok(isCorralError(w));
  t.match(w.message, /^read the config: ENOENT: no such file or directory, open '\/nonexistent\/corral-errors-test'$/);
  t.equal(w.code, 'ENOENT');
  t.equal(w.cause, e);
  t.equal(w.exitCode, 1);
  const twice = CorralError.wrap('create', w, 2);
  t.equal(twice.code, 'ENOENT', 'the errno survives a second wrap');
  t.equal(twice.exitCode, 2);
  t.equal(CorralError.wrap('x', 'a string').message, 'x: a string');
  t.equal(CorralError.wrap('x', 'a string').code, undefined);
});

t.test('errnoCode and corralErrorOf', async (t) => {
  t.equal(errnoCode(fsFailure()), 'ENOENT');
  t.equal(errnoCode(new Error('plain')), undefined);
  t.equal(errnoCode(undefined), undefined);
  t.equal(errnoCode({ code: 42 }), undefined, 'a numeric code is not an errno name');
  const c = corralErrorOf(fsFailure());
  t.ok(isCorralError(c));
  t.equal((c as CorralError).message, 'open /nonexistent/corral-errors-test: no such file or directory', "Go's wording, as runc prints it");
  t.equal((c as CorralError).code, 'ENOENT');
  const mine = new CorralError(NOT_EXIST);
  t.equal(corralErrorOf(mine), mine, 'a CorralError passes as is');
});

t.test("a command's flags are typed from the table", async (t) => {
  const kill: Flags<'kill'> = { all: true };
  const exec: Flags<'exec'> = { 'preserve-fds': 0, env: ['A=1'], 'additional-gids': [5] };
  // @ts-expect-error: kill has no --force (a flag a command does not declare fails tsc)
  kill.force = true;
  // @ts-expect-error: exec's --env is repeatable: a list
  exec.env = 'A=1';
  t.same(kill, { all: true, force: true });
  t.equal(exec['preserve-fds'], 0);
});
