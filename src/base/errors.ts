import { errnoText } from './errno';

/** An error meant for the user: its message is printed as is, and corral exits with `exitCode`. */
export class CorralError extends Error {
  /** Each command bundle has its own copy of this class: test for this, not instanceof. */
  readonly corral = true;
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

export function isCorralError(e: unknown): e is CorralError {
  return typeof e === 'object' && e !== null && (e as { corral?: unknown }).corral === true;
}

/** Wraps a Node fs error as "<what> <path>: <reason>" in Go's lower-case errno wording. */
export function fsError(what: string, err: unknown): CorralError {
  const e = err as NodeJS.ErrnoException;
  const reason = e.code ? errnoText(e.code) : String(e.message ?? err);
  return new CorralError(`${what}: ${reason}`);
}

/**
 * A system call's failure as a one-line CorralError ("<syscall> <path>: <reason>"),
 * whether Node's fs raised it or the addon ("<what>: <strerror>"); anything else as is.
 */
export function corralErrorOf(err: unknown): unknown {
  if (isCorralError(err) || !(err instanceof Error)) return err;
  const e = err as NodeJS.ErrnoException;
  if (e.code && e.syscall) return fsError(e.path ? `${e.syscall} ${e.path}` : e.syscall, e);
  if (typeof (e as { errno?: unknown }).errno === 'number' && /: [A-Z]/.test(e.message))
    return new CorralError(e.message.replace(/: ([A-Z])([^:]*)$/, (_, a: string, b: string) => `: ${a.toLowerCase()}${b}`));
  return err;
}
