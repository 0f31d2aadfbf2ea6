// Waiting for a container's process we are the (sub)reaper of: its status as a shell
// gives it (128 + signal), with the pty copied to our stdio when the terminal is ours.
import { addon } from '../linux/addon';
import { attachConsole } from './console';

/** Forwards the signals we receive to pid meanwhile (as runc run/exec do). */
export async function waitForExit(pid: number, master?: number): Promise<number> {
  const r = master !== undefined ? await attachConsole(master, pid) : addon().wait(pid, true);
  return r.signal ? 128 + r.signal : (r.status ?? 0);
}
