// Owns the adapter from Verdaccio's callback/stream storage and auth APIs (verdaccio 6.8
// lib/storage.js, @verdaccio/auth) to the promise-based interfaces the gate uses. Only the few
// methods the gate needs are typed; everything Verdaccio hands back is treated as unknown.
import type { Readable } from 'node:stream';
import { GateError } from './errors';
import type { RegistrySource } from './gate';

/** The part of Verdaccio's Storage the gate uses. */
export interface VerdaccioStorage {
  getPackage(options: {
    name: string;
    uplinksLook: boolean;
    req?: unknown;
    callback: (err: unknown, metadata?: unknown, uplinkErrors?: unknown) => void;
  }): void;
  getTarball(name: string, filename: string): Readable & { abort?: () => void };
  /** Verdaccio 6.8 lib/storage.js: syncs the uplinks and reports each uplink's errors (getPackage drops them). */
  _syncUplinksMetadata?(name: string, packageInfo: unknown, options: Record<string, unknown>, callback: (err: unknown, metadata?: unknown, uplinkErrors?: unknown) => void): void;
}

/** Verdaccio's remote user, as apiJWTmiddleware puts it on `req.remote_user`. */
export interface RemoteUser {
  readonly name?: string | undefined;
  readonly groups?: readonly string[];
  readonly real_groups?: readonly string[];
}

/** The part of Verdaccio's Auth the gate uses. */
export interface VerdaccioAuth {
  allow_access(pkg: { packageName: string; packageVersion?: string | undefined }, user: RemoteUser, callback: (err: unknown, ok?: boolean) => void): void;
}

export function statusOf(e: unknown): number | null {
  if (typeof e !== 'object' || e === null) return null;
  const rec = e as { status?: unknown; statusCode?: unknown };
  if (typeof rec.status === 'number') return rec.status;
  if (typeof rec.statusCode === 'number') return rec.statusCode;
  return null;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The first uplink error that is not an answer from a registry (connection refused, DNS, 5xx), as text. */
export function uplinkFailure(uplinkErrors: unknown): string | null {
  const queue: unknown[] = Array.isArray(uplinkErrors) ? [...(uplinkErrors as unknown[])] : [];
  while (queue.length > 0) {
    const e = queue.shift();
    if (Array.isArray(e)) {
      queue.push(...(e as unknown[]));
      continue;
    }
    if (typeof e !== 'object' || e === null) continue;
    const code = (e as { code?: unknown }).code;
    const status = statusOf(e);
    const remote = (e as { remoteStatus?: unknown }).remoteStatus;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    if (typeof remote === 'number' && remote >= 500) return `HTTP ${remote}`;
    if (status !== null && status >= 500) return `HTTP ${status}`;
  }
  return null;
}

/** RegistrySource over Verdaccio's storage: local cache first, uplinks as Verdaccio configures them. */
export class VerdaccioRegistrySource implements RegistrySource {
  constructor(private readonly storage: VerdaccioStorage) {}

  getPackument(name: string, ctx: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const options: Parameters<VerdaccioStorage['getPackage']>[0] = {
        name,
        uplinksLook: true,
        callback: (err, metadata) => {
          if (err !== null && err !== undefined) {
            const status = statusOf(err);
            if (status === 404) {
              void this.notFoundOrUnreachable(name).then(reject);
              return;
            }
            reject(new GateError('CAPGATE_UPSTREAM_UNAVAILABLE', `cannot read the packument of ${name}: ${messageOf(err)}`, { name, status }, { cause: err }));
            return;
          }
          resolve(metadata);
        },
      };
      if (ctx !== undefined) options.req = ctx;
      try {
        this.storage.getPackage(options);
      } catch (e) {
        reject(new GateError('CAPGATE_UPSTREAM_UNAVAILABLE', `cannot read the packument of ${name}: ${messageOf(e)}`, { name }, { cause: e }));
      }
    });
  }

  /**
   * Verdaccio answers 404 when no uplink had the package, even when the only uplink refused the
   * connection (only timeouts and resets become 503), and getPackage drops the uplink errors: ask
   * the uplinks once more for them, so an unreachable upstream gets its own reason.
   */
  private notFoundOrUnreachable(name: string): Promise<GateError> {
    const notFound = new GateError('CAPGATE_NOT_FOUND', `package ${name} not found`, { name });
    const sync = this.storage._syncUplinksMetadata;
    if (typeof sync !== 'function') return Promise.resolve(notFound);
    return new Promise((resolve) => {
      try {
        sync.call(this.storage, name, null, {}, (_err, _metadata, uplinkErrors) => {
          const unreachable = uplinkFailure(uplinkErrors);
          resolve(unreachable === null ? notFound : new GateError('CAPGATE_UPSTREAM_UNAVAILABLE', `cannot read the packument of ${name}: uplink unreachable (${unreachable})`, { name }));
        });
      } catch {
        resolve(notFound);
      }
    });
  }

  readTarball(name: string, filename: string, maxBytes: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      let stream: Readable & { abort?: () => void };
      try {
        stream = this.storage.getTarball(name, filename);
      } catch (e) {
        reject(new GateError('CAPGATE_UPSTREAM_UNAVAILABLE', `cannot read ${filename}: ${messageOf(e)}`, { name, filename }, { cause: e }));
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      let settled = false;
      const tooLarge = (): void => {
        if (settled) return;
        settled = true;
        stream.destroy();
        reject(new GateError('CAPGATE_TARBALL_TOO_LARGE', `${filename} is larger than ${maxBytes} bytes`, { name, filename, maxBytes }));
      };
      stream.on('content-length', (v: unknown) => {
        if (Number(v) > maxBytes) tooLarge();
      });
      stream.on('data', (chunk: Buffer) => {
        if (settled) return;
        total += chunk.length;
        if (total > maxBytes) return tooLarge();
        chunks.push(chunk);
      });
      stream.on('error', (err: unknown) => {
        if (settled) return;
        settled = true;
        const status = statusOf(err);
        if (status === 404) reject(new GateError('CAPGATE_NOT_FOUND', `tarball ${filename} of ${name} not found`, { name, filename }));
        else reject(new GateError('CAPGATE_UPSTREAM_UNAVAILABLE', `cannot read ${filename}: ${messageOf(err)}`, { name, filename, status }, { cause: err }));
      });
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        resolve(Buffer.concat(chunks, total));
      });
    });
  }
}

/** Verdaccio's access rules (`packages:` access) for this user, as its own `allow('access')` applies them. */
export function checkAccess(auth: VerdaccioAuth, name: string, user: RemoteUser, version?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    auth.allow_access({ packageName: name, packageVersion: version }, user, (err, ok) => {
      if (err !== null && err !== undefined) {
        const status = statusOf(err);
        const code = status === 401 ? 'CAPGATE_UNAUTHENTICATED' : 'CAPGATE_ACCESS_DENIED';
        reject(new GateError(code, messageOf(err), { name }));
        return;
      }
      if (ok === true) resolve();
      else reject(new GateError('CAPGATE_ACCESS_DENIED', `access to ${name} denied`, { name }));
    });
  });
}
