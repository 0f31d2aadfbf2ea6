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

const ERRNO_TEXT: Record<string, string> = {
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
};

export function errnoText(code: string): string {
  return ERRNO_TEXT[code] ?? code.toLowerCase();
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
