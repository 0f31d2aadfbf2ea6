// Messages that callers match on, in runc's words (libcontainer's errors): changing one
// breaks a client that reads corral's stderr, so each says who reads it.

/**
 * An id with no state directory. containerd's runc shim treats a `delete` failing with
 * "does not exist" as already deleted; podman's conmon runtime does the same on
 * delete/kill, and runtime-tools' validation matches it.
 */
export const NOT_EXIST = 'container does not exist';

/**
 * kill/pause/update/exec of a container whose init is gone. containerd's shim maps it to
 * "process already finished" (not found), podman's stop takes it as already stopped.
 */
export const NOT_RUNNING = 'container not running';

/** resume of a container that is not paused: containerd's shim passes it on as a failed precondition. */
export const NOT_PAUSED = 'container not paused';

/** create with an id in use: containerd and podman report it as "already exists". */
export const idExists = (id: string): string => `container with id exists: ${id}`;

/** events of a stopped container: runc's wording, read by runtime-tools' events checks. */
export const eventsNotRunning = (id: string): string => `container with id ${id} is not running`;

/** A terminal with nowhere to send it: runc's wording, which podman and containerd show as is. */
export const TTY_WITHOUT_SOCKET = 'cannot allocate tty if runc will detach without setting console socket';
