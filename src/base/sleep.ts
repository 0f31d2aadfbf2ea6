// corral's commands are synchronous: a short wait blocks the thread rather than the event loop.
const cell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for ms milliseconds. */
export function sleepSync(ms: number): void {
  Atomics.wait(cell, 0, 0, ms);
}
