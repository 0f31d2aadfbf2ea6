// Undo registered right where each resource is taken, run last-first when the operation
// fails (runc's `defer` on a returned error, crun's cleanup attributes): a function that
// takes several things reads as its steps, and none of them is forgotten on failure.
export class Rollback {
  private undos: [what: string, undo: () => void][] = [];

  /** Registers how to give back what was just taken. */
  push(what: string, undo: () => void): void {
    this.undos.push([what, undo]);
  }

  /** Success: nothing is given back. */
  commit(): void {
    this.undos = [];
  }

  /** Failure: every undo, last first; one that fails is reported to warn and the rest still run. */
  run(warn: (message: string) => void): void {
    const undos = this.undos.reverse();
    this.undos = [];
    for (const [what, undo] of undos) {
      try {
        undo();
      } catch (e) {
        warn(`undoing ${what}: ${(e as Error).message}`);
      }
    }
  }
}
