/** An error meant for the user: its message is printed as is, and corral exits with `exitCode`. */
export class CorralError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
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
