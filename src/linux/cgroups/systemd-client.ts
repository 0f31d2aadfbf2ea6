// The few systemd Manager calls the systemd cgroup driver makes, as an interface: over
// D-Bus here, a recording double in the unit tests (test/unit/systemd-driver.test.ts).
import { existsSync } from 'node:fs';
import { CorralError } from '../../base/errors';
import { Bus, systemBusPath, type Variant } from '../dbus';

/** A unit property: name and D-Bus value. */
export type Prop = [string, Variant];

/** systemd's Manager, as the driver uses it. Errors systemd returns are thrown as DBusError. */
export interface SystemdClient {
  /** Asks for the JobRemoved signals that waitJob waits for. */
  subscribe(): void;
  /** The Manager's Version property ("252.39-1~deb12u2"). */
  version(): string;
  /** StartTransientUnit in mode "replace"; returns the job. */
  startTransientUnit(unit: string, props: Prop[]): string;
  /** StopUnit in mode "replace"; returns the job. */
  stopUnit(unit: string): string;
  /** SetUnitProperties (runtime: not saved across reboots). */
  setUnitProperties(unit: string, runtime: boolean, props: Prop[]): void;
  /** The ControlGroup property of a loaded scope unit. */
  controlGroup(unit: string): string;
  /** Waits until the job is gone; returns its result ("done", "failed"...). */
  waitJob(job: string): string;
  close(): void;
}

const SD = 'org.freedesktop.systemd1';
const SD_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const PROPS = 'org.freedesktop.DBus.Properties';

function getProperty(bus: Bus, path: string, iface: string, name: string): unknown {
  const [v] = bus.call(SD, path, PROPS, 'Get', 'ss', iface, name);
  return (v as Variant).value;
}

/** The client over a connected bus. */
function busClient(bus: Bus): SystemdClient {
  return {
    subscribe() {
      // A message bus forwards only the signals a match rule names.
      if (bus.messageBus)
        bus.call(
          'org.freedesktop.DBus',
          '/org/freedesktop/DBus',
          'org.freedesktop.DBus',
          'AddMatch',
          's',
          `type='signal',sender='${SD}',path='${SD_PATH}',interface='${MANAGER}',member='JobRemoved'`,
        );
      bus.call(SD, SD_PATH, MANAGER, 'Subscribe');
    },
    version: () => String(getProperty(bus, SD_PATH, MANAGER, 'Version')),
    startTransientUnit: (unit, props) => String(bus.call(SD, SD_PATH, MANAGER, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', unit, 'replace', props, [])[0]),
    stopUnit: (unit) => String(bus.call(SD, SD_PATH, MANAGER, 'StopUnit', 'ss', unit, 'replace')[0]),
    setUnitProperties(unit, runtime, props) {
      bus.call(SD, SD_PATH, MANAGER, 'SetUnitProperties', 'sba(sv)', unit, runtime, props);
    },
    controlGroup(unit) {
      const [unitPath] = bus.call(SD, SD_PATH, MANAGER, 'GetUnit', 's', unit) as [string];
      return String(getProperty(bus, unitPath, 'org.freedesktop.systemd1.Scope', 'ControlGroup'));
    },
    waitJob: (job) => String(bus.waitSignal((m) => m.member === 'JobRemoved' && m.body[1] === job).body[3]),
    close: () => bus.close(),
  };
}

/** Connects to systemd: the system bus, or (as root) systemd's private socket, as runc. */
export function connectSystemd(): SystemdClient {
  const bus = systemBusPath();
  try {
    return busClient(Bus.connect(bus, true));
  } catch (e) {
    if (process.getuid?.() === 0) {
      try {
        return busClient(Bus.connect('/run/systemd/private', false));
      } catch {
        // report the system bus's error: it is the one to fix
      }
    }
    const why = existsSync('/run/systemd/system') ? '' : ' (systemd is not running on this host: there is no /run/systemd/system)';
    throw new CorralError(`--systemd-cgroup: cannot reach systemd over D-Bus at ${bus}: ${(e as Error).message}${why}`);
  }
}
