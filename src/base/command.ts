// What every command module of src/commands exports as `main`: typed flags in, exit status out.
import type { Globals } from './globals';

export type CommandMain = (g: Globals, opts: Record<string, unknown>, args: string[]) => number | Promise<number>;
