// Bundles corral into dist/: corral.js (the entry: argument parsing and dispatch)
// and one cmd-<name>.js per command, each self-contained, loaded only when run.
import { build } from 'esbuild';
import { readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const commands = readdirSync(join(root, 'src/commands')).filter((f) => f.endsWith('.ts') && f !== 'table.ts'); // table.ts: the command line's table, in corral.js
mkdirSync(join(root, 'dist'), { recursive: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minifySyntax: true,
  legalComments: 'none',
  logLevel: 'warning',
  define: { VERSION: JSON.stringify(version) },
  // dist/ holds every output, so __dirname is the same for all of them.
  outdir: join(root, 'dist'),
};

await build({ ...common, entryPoints: { corral: join(root, 'src/cli/main.ts') } });
// Loaded on demand (src/linux/cgroups/systemd-load.ts, for the systemd cgroup driver).
await build({ ...common, entryPoints: { systemd: join(root, 'src/linux/cgroups/systemd.ts') } });
await build({
  ...common,
  entryPoints: Object.fromEntries(commands.map((f) => [`cmd-${f.replace(/\.ts$/, '')}`, join(root, 'src/commands', f)])),
});
