// Which statuses each operation accepts, and what it says otherwise: in runc's words,
// which callers match (containerd's shim maps "not running" / "not paused" / "does not
// exist" to its errdefs; podman reads "container not running").
import { CorralError } from '../base/errors';
import type { Status } from '../state/store';
import { NOT_PAUSED, NOT_RUNNING, eventsNotRunning } from '../base/messages';

interface Rule {
  allows: readonly Status[];
  refusal: (id: string, status: Status) => string;
}

export const STATUS_RULES = {
  start: {
    allows: ['created'],
    refusal: (_id, s) =>
      ({ stopped: 'cannot start a container that has stopped', running: 'cannot start an already running container', paused: 'cannot start a paused container' })[s as string] ??
      `cannot start a container in state ${s}`,
  },
  kill: { allows: ['created', 'running', 'paused'], refusal: () => NOT_RUNNING },
  pause: { allows: ['created', 'running'], refusal: () => NOT_RUNNING },
  resume: { allows: ['paused'], refusal: () => NOT_PAUSED },
  update: { allows: ['created', 'running', 'paused'], refusal: () => NOT_RUNNING },
  events: { allows: ['created', 'running', 'paused'], refusal: eventsNotRunning },
  exec: {
    allows: ['created', 'running'],
    refusal: (_id, s) => (s === 'paused' ? 'cannot exec in a paused container (use --ignore-paused to override)' : 'cannot exec in a stopped container'),
  },
  'exec --ignore-paused': { allows: ['created', 'running', 'paused'], refusal: () => 'cannot exec in a stopped container' },
  delete: { allows: ['stopped'], refusal: (id, s) => `cannot delete container ${id} that is not stopped: ${s}` },
} satisfies Record<string, Rule>;

export type Operation = keyof typeof STATUS_RULES;

/** Throws the operation's refusal unless it accepts status. */
export function requireStatus(op: Operation, status: Status, id: string): void {
  const rule: Rule = STATUS_RULES[op];
  if (!rule.allows.includes(status)) throw new CorralError(rule.refusal(id, status));
}
