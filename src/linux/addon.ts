// The only door to the native addon (addon/glue/addon.cc). Loaded on first use:
// commands that do not start processes never pay for it.
import { addonPath } from './paths';

export interface Addon {
  /** Starts path with argv; the child's fd i is fds[i], and it has no other fds. */
  spawn(path: string, argv: string[], fds: number[], env?: string[]): number;
  socketPair(): [number, number];
  /** Blocks until pid exits, reaping orphans meanwhile; optionally forwards signals to pid. */
  wait(pid: number, forwardSignals: boolean): { status?: number; signal?: number };
  /** The exit of pid if it has exited (and reaps it), else null. Never blocks. */
  tryWait(pid: number): { status?: number; signal?: number } | null;
  /** Receives one fd sent with SCM_RIGHTS, and the data sent with it. */
  recvFd(sock: number): { fd: number; name: string };
  /** Sends a pidfd of pid over sock (SCM_RIGHTS), with name as the data. */
  sendPidfd(sock: number, pid: number, name: string): void;
  setWinsize(fd: number, rows: number, cols: number): void;
  /** The libseccomp version corral-init is built with ("2.5.4"). */
  seccompVersion(): string;
  setSubreaper(): void;
  umount(path: string, flags: number): void;
  mkfifo(path: string, mode: number): void;
  /** eventfd(2), close-on-exec and blocking: for cgroup v1 event notifications. */
  eventfd(initval: number): number;
  /** A blocking unix stream socket connected to path; reads and writes time out (EAGAIN) after timeoutMs. */
  connectUnix(path: string, timeoutMs: number): number;
  /** Loads a cgroup device eBPF program (struct bpf_insn[]) and attaches it to a cgroup2 directory. */
  attachDeviceFilter(dir: string, insns: Buffer): void;
}

let loaded: Addon | undefined;
export function addon(): Addon {
  loaded ??= require(addonPath) as Addon;
  return loaded;
}

export const MNT_DETACH = 2;
