import { errnoText } from './errno';

/**
 * An error meant for the user: its message is printed as is, and corral exits with
 * `exitCode`. `code` is the errno name (ENOENT…) when a system call's failure is the
 * reason, so callers can decide on it without reading the message; `cause` keeps the
 * original error for --debug.
 */
export class CorralError extends Error {
  /** Each command bundle has its own copy of this class: test for this, not instanceof. */
  readonly corral = true;
  readonly code?: string;

  constructor(
    message: string,
    readonly exitCode = 1,
    o: { cause?: unknown; code?: string } = {},
  ) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    if (o.code) this.code = o.code;
  }

  /** "<context>: <what went wrong>", keeping e as the cause and its errno as the code. */
  static wrap(context: string, e: unknown, exitCode = 1): CorralError {
    const message = e instanceof Error ? e.message : String(e);
    return new CorralError(`${context}: ${message}`, exitCode, { cause: e, code: errnoCode(e) });
  }
}

/** The errno name (ENOENT…) of a failed system call, from Node's fs, the addon or a CorralError. */
export function errnoCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

export function isCorralError(e: unknown): e is CorralError {
  return typeof e === 'object' && e !== null && (e as { corral?: unknown }).corral === true;
}

/** Wraps a Node fs error as "<what> <path>: <reason>" in Go's lower-case errno wording. */
export function fsError(what: string, err: unknown): CorralError {
  const code = errnoCode(err);
  const reason = code ? errnoText(code) : String((err as Error)?.message ?? err);
  return new CorralError(`${what}: ${reason}`, 1, { cause: err, code });
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
