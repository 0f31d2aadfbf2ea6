// The busybox rootfs as an OCI image layout archive, for the clients that take images
// (containerd's `ctr image import`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUSYBOX_ROOTFS } from './corral';

/** Writes the archive into dir (which must exist) and returns its path; `name` is the image's. */
export function imageArchive(dir: string, name: string): string {
  const layout = join(dir, 'layout');
  mkdirSync(join(layout, 'blobs/sha256'), { recursive: true });
  const layerTar = join(dir, 'layer.tar');
  const tar = spawnSync('tar', ['--numeric-owner', '-C', BUSYBOX_ROOTFS, '-cf', layerTar, '.'], { encoding: 'utf8' });
  if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
  const blob = (data: Buffer, mediaType: string) => {
    const digest = 'sha256:' + createHash('sha256').update(data).digest('hex');
    writeFileSync(join(layout, 'blobs/sha256', digest.slice(7)), data);
    return { mediaType, digest, size: data.length };
  };
  const layer = blob(readFileSync(layerTar), 'application/vnd.oci.image.layer.v1.tar');
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], WorkingDir: '/' },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
    'application/vnd.oci.image.config.v1+json',
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config,
        layers: [layer],
      }),
    ),
    'application/vnd.oci.image.manifest.v1+json',
  );
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...manifest, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': 'test' } }],
    }),
  );
  const archive = join(dir, 'image.tar');
  const pack = spawnSync('tar', ['-C', layout, '-cf', archive, '.'], { encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`tar: ${pack.stderr}`);
  return archive;
}
