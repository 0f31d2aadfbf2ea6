// Rollback: undo last-first on failure, nothing on success, a failing undo only warns.
import t from 'tap';
import { Rollback } from '../../src/base/rollback';

t.test('run: every undo, last first; a failing one is a warning and the rest still run', async (t) => {
  const done: string[] = [];
  const warnings: string[] = [];
  const r = new Rollback();
  r.push('a', () => done.push('a'));
  r.push('b', () => {
    throw new Error('busy');
  });
  r.push('c', () => done.push('c'));
  r.run((m) => warnings.push(m));
  t.same(done, ['c', 'a']);
  t.same(warnings, ['undoing b: busy']);
  r.run(() => t.fail('run twice'));
  t.same(done, ['c', 'a'], 'a second run undoes nothing again');
});

t.test('commit: nothing is undone', async (t) => {
  const r = new Rollback();
  r.push('a', () => t.fail('undone after commit'));
  r.commit();
  r.run(() => t.fail('warned'));
  t.pass('committed');
});
