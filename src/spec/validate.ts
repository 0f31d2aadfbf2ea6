// config.json checks: the runtime-spec schemas (compiled at build time, see
// scripts/build-schemas.mjs) and the rules the schemas cannot express.
import { isAbsolute } from 'node:path';
import type { Config, Namespace } from './types';
const validators = require('../../build/schemas/validators.js') as {
  validateConfig: ValidateFn;
  validateState: ValidateFn;
};

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}
type ValidateFn = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

function valueAt(doc: unknown, pointer: string): unknown {
  let node = doc as Record<string, unknown> | undefined;
  for (const part of pointer.split('/').slice(1)) {
    if (node === undefined || node === null) return undefined;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')] as Record<string, unknown>;
  }
  return node;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}

function formatErrors(doc: unknown, errors: AjvError[]): string[] {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const e of errors) {
    // "if/then/else" and "oneOf" wrappers only repeat what their branches said.
    if (e.keyword === 'if' || e.keyword === 'oneOf' || e.keyword === 'anyOf') continue;
    let path = e.instancePath || '/';
    let msg = e.message ?? e.keyword;
    if (e.keyword === 'required') {
      path = `${e.instancePath}/${String(e.params.missingProperty)}`;
      msg = 'is required';
    } else if (e.keyword === 'enum') {
      msg = `must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (e.keyword === 'additionalProperties') {
      path = `${e.instancePath}/${String(e.params.additionalProperty)}`;
      msg = 'is not allowed';
    }
    const got = e.keyword === 'required' ? '' : ` (got ${describe(valueAt(doc, e.instancePath))})`;
    const line = `${path}: ${msg}${got}`;
    if (!seen.has(line)) {
      lines.push(line);
      seen.add(line);
    }
  }
  return lines;
}

/** Problems the schema does not catch: every one is "JSON pointer: what is wrong". */
function semanticProblems(c: Config): string[] {
  const p: string[] = [];
  const linux = c.linux ?? {};
  const seenNs = new Map<string, number>();
  (linux.namespaces ?? []).forEach((ns, i) => {
    if (seenNs.has(ns.type)) p.push(`/linux/namespaces/${i}/type: namespace "${ns.type}" is listed twice (also at /linux/namespaces/${seenNs.get(ns.type)})`);
    seenNs.set(ns.type, i);
    if (ns.path !== undefined && !isAbsolute(ns.path)) p.push(`/linux/namespaces/${i}/path: must be an absolute path (got "${ns.path}")`);
    if (ns.type === 'time' && ns.path && linux.timeOffsets) p.push(`/linux/timeOffsets: cannot be set when joining an existing time namespace`);
  });
  const has = (t: string) => seenNs.has(t);
  (c.mounts ?? []).forEach((m, i) => {
    if (!isAbsolute(m.destination)) p.push(`/mounts/${i}/destination: must be an absolute path (got "${m.destination}")`);
  });
  if (c.process) {
    if (c.process.cwd !== undefined && !isAbsolute(c.process.cwd)) p.push(`/process/cwd: must be an absolute path (got "${c.process.cwd}")`);
    const seenR = new Set<string>();
    (c.process.rlimits ?? []).forEach((r, i) => {
      if (seenR.has(r.type)) p.push(`/process/rlimits/${i}/type: "${r.type}" is listed twice`);
      seenR.add(r.type);
    });
  }
  if (c.hostname && !has('uts')) p.push(`/hostname: setting the hostname needs a uts namespace in /linux/namespaces`);
  if (c.domainname && !has('uts')) p.push(`/domainname: setting the domainname needs a uts namespace in /linux/namespaces`);
  const userNs = has('user');
  if ((linux.uidMappings?.length || linux.gidMappings?.length) && !userNs) p.push(`/linux/uidMappings: id mappings need a user namespace in /linux/namespaces`);
  if (userNs && !seenNsPath(linux.namespaces, 'user') && (!linux.uidMappings?.length || !linux.gidMappings?.length))
    p.push(`/linux/uidMappings: a new user namespace needs both uidMappings and gidMappings`);
  if (linux.timeOffsets && !has('time')) p.push(`/linux/timeOffsets: needs a time namespace in /linux/namespaces`);
  for (const key of Object.keys(linux.sysctl ?? {})) {
    if (!NAMESPACED_SYSCTL.test(key)) {
      p.push(`/linux/sysctl/${key}: not in a separate kernel namespace: it would change the host`);
      continue;
    }
    if (key.startsWith('net.') && !has('network')) p.push(`/linux/sysctl/${key}: net.* sysctls need a network namespace`);
    if ((key.startsWith('kernel.msg') || key.startsWith('kernel.sem') || key.startsWith('kernel.shm') || key.startsWith('fs.mqueue.')) && !has('ipc'))
      p.push(`/linux/sysctl/${key}: ipc sysctls need an ipc namespace`);
    // As runc: the hostname has its own field, always; crun also refuses a domainname
    // that contradicts /domainname.
    if (key === 'kernel.hostname') p.push(`/linux/sysctl/${key}: not allowed, as it conflicts with the "hostname" field (set /hostname instead)`);
    else if (key === 'kernel.domainname' && !has('uts')) p.push(`/linux/sysctl/${key}: needs a uts namespace`);
    else if (key === 'kernel.domainname' && c.domainname !== undefined && c.domainname !== linux.sysctl![key])
      p.push(`/linux/sysctl/${key}: ${JSON.stringify(linux.sysctl![key])} conflicts with /domainname ${JSON.stringify(c.domainname)}`);
  }
  return p;
}

function seenNsPath(list: Namespace[] | undefined, type: string): boolean {
  return !!list?.some((n) => n.type === type && n.path);
}

// The sysctls a namespace isolates (ipc: kernel.msg*/sem/shm*, fs.mqueue.*; net: net.*;
// uts: kernel.hostname/domainname), as runc's validator allows.
const NAMESPACED_SYSCTL = /^(kernel\.(msgmax|msgmnb|msgmni|sem|shmall|shmmax|shmmni|shm_rmid_forced|hostname|domainname)|fs\.mqueue\..+|net\..+)$/;

const pointerPart = (k: string) => k.replace(/~/g, '~0').replace(/\//g, '~1').replace(/\0/g, '\\u0000');

/**
 * What no field may hold, whatever the schema says of it: a NUL byte (the kernel would
 * read a path, option or argument only up to it) and a number JSON.parse made infinite
 * (1e400). Keys are checked too: they become sysctl names, annotations, env.
 */
function valueProblems(doc: unknown): string[] {
  const p: string[] = [];
  const walk = (v: unknown, at: string): void => {
    if (typeof v === 'string') {
      if (v.includes('\0')) p.push(`${at || '/'}: must not contain a NUL byte`);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) p.push(`${at || '/'}: number out of range`);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${at}/${i}`));
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('\0')) p.push(`${at}/${pointerPart(k)}: a key must not contain a NUL byte`);
        walk(x, `${at}/${pointerPart(k)}`);
      }
    }
  };
  walk(doc, '');
  return p;
}

/** Returns every problem of config as "pointer: message" lines; empty when valid. */
export function configProblems(config: unknown): string[] {
  const bad = valueProblems(config);
  if (bad.length) return bad;
  const problems = validators.validateConfig(config) ? [] : formatErrors(config, validators.validateConfig.errors ?? []);
  try {
    problems.push(...semanticProblems(config as Config));
  } catch {
    // the document is too broken for these checks; the schema errors say why
  }
  return problems;
}

export function stateProblems(state: unknown): string[] {
  if (validators.validateState(state)) return [];
  return formatErrors(state, validators.validateState.errors ?? []);
}
