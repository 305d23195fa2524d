// Owns writing a package-lock.json by hand that pins exact versions through a registry, as a
// teammate's committed lockfile would: the only way to ask the gated registry for a version its
// metadata filter hides (npm cannot resolve a hidden version, so `--package-lock-only` cannot pin it).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

export interface Pin {
  readonly name: string;
  readonly version: string;
  /** The tarball's SRI (as the upstream recorded it). */
  readonly integrity: string;
}

/** Writes package.json dependencies and a lockfile v3 pinning `pins` (the first is the direct dependency, the rest its dependencies). */
export async function writePinnedLockfile(dir: string, registryUrl: string, pins: readonly Pin[]): Promise<void> {
  const first = pins[0];
  if (first === undefined) throw new Error('writePinnedLockfile: nothing to pin');
  const base = registryUrl.endsWith('/') ? registryUrl : `${registryUrl}/`;
  const manifest = { name: 'e2e-project', version: '1.0.0', private: true, dependencies: { [first.name]: first.version } };
  const packages: Record<string, unknown> = { '': { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies } };
  for (const p of pins) {
    const file = `${p.name.split('/').pop() ?? p.name}-${p.version}.tgz`;
    packages[`node_modules/${p.name}`] = { version: p.version, resolved: `${base}${p.name}/-/${file}`, integrity: p.integrity, license: 'MIT' };
  }
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  await fs.writeFile(path.join(dir, 'package-lock.json'), JSON.stringify({ name: manifest.name, version: manifest.version, lockfileVersion: 3, requires: true, packages }, null, 2));
}
