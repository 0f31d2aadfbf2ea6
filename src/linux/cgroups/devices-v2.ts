// Device rules on cgroup v2: there is no devices controller, only an eBPF program
// attached to the container's cgroup.
import { CorralError } from '../../cli/errors';
import type { Resources } from '../../spec/types';
import { R } from './types';

export function applyDevicesV2(dir: string, _r: Resources): void {
  throw new CorralError(`${R}/devices: device rules on a cgroup v2 host need an eBPF program, which corral cannot load yet (${dir})`);
}
