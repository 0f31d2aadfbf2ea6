// systemd's side of the systemd driver (./systemd.ts and its D-Bus client) is loaded only
// for containers that use it: from its own bundle, dist/systemd.js, through boot.js's
// loader, so that the commands every container runs (delete above all) do not carry it;
// from the sources when there is no bundle (tests).
type Systemd = typeof import('./systemd');

export function loadSystemd(): Systemd {
  const load = (globalThis as { __corralLoad?: (name: string) => unknown }).__corralLoad;
  if (load) return load('systemd') as Systemd;
  const sources = './systemd'; // not a literal: esbuild would bundle it
  return require(sources) as Systemd;
}
