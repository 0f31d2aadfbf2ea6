// The status rules: which statuses each operation accepts, and runc's words otherwise.
import t from 'tap';
import { STATUS_RULES, requireStatus, type Operation } from '../../src/lifecycle/status-rules';
import type { Status } from '../../src/state/store';
import { corralError } from '../lib/corral';

const STATUSES: Status[] = ['created', 'running', 'paused', 'stopped'];
// What runc 1.1.5 accepts and says, operation by operation.
const RUNC: Record<Operation, [Status[], Partial<Record<Status, string>>]> = {
  start: [['created'], { running: 'cannot start an already running container', stopped: 'cannot start a container that has stopped', paused: 'cannot start a paused container' }],
  kill: [['created', 'running', 'paused'], { stopped: 'container not running' }],
  pause: [['created', 'running'], { paused: 'container not running', stopped: 'container not running' }],
  resume: [['paused'], { created: 'container not paused', running: 'container not paused', stopped: 'container not paused' }],
  update: [['created', 'running', 'paused'], { stopped: 'container not running' }],
  events: [['created', 'running', 'paused'], { stopped: 'container with id c1 is not running' }],
  exec: [['created', 'running'], { paused: 'cannot exec in a paused container (use --ignore-paused to override)', stopped: 'cannot exec in a stopped container' }],
  'exec --ignore-paused': [['created', 'running', 'paused'], { stopped: 'cannot exec in a stopped container' }],
  delete: [
    ['stopped'],
    {
      created: 'cannot delete container c1 that is not stopped: created',
      running: 'cannot delete container c1 that is not stopped: running',
      paused: 'cannot delete container c1 that is not stopped: paused',
    },
  ],
};

t.same(Object.keys(STATUS_RULES).sort(), Object.keys(RUNC).sort(), 'every operation has its rule');
for (const [op, [allowed, refusals]] of Object.entries(RUNC) as [Operation, (typeof RUNC)[Operation]][]) {
  t.test(op, async (t) => {
    for (const s of STATUSES) {
      if (allowed.includes(s)) t.doesNotThrow(() => requireStatus(op, s, 'c1'), `${op} accepts ${s}`);
      else
        t.equal(
          corralError(t, () => requireStatus(op, s, 'c1')),
          refusals[s],
          `${op} refuses ${s} in runc's words`,
        );
    }
  });
}
