// Owns the file store's durable primitives: atomic file replacement, a cross-process lock file,
// in-process keyed serialisation, and the mapping of fs errors to PolicyStoreError codes.
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyStoreError } from './store';

/** Prefix of temp files; readers skip every name starting with `.`. */
export const TEMP_PREFIX = '.tmp-';

export function errno(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export function isNotFound(err: unknown): boolean {
  return errno(err) === 'ENOENT';
}

/** Wraps an fs failure as CAPGATE_POLICY_STORE_UNAVAILABLE (PolicyStoreErrors pass through). */
export function unavailable(what: string, err: unknown): PolicyStoreError {
  if (err instanceof PolicyStoreError) return err;
  const code = errno(err);
  return new PolicyStoreError('CAPGATE_POLICY_STORE_UNAVAILABLE', `policy store: cannot ${what}${code ? ` (${code})` : ''}`, { cause: err });
}

async function fsyncDir(dir: string): Promise<void> {
  // Makes the rename itself durable (cacache and write-file-atomic do the same). Some filesystems
  // refuse to open a directory for fsync (EISDIR/EPERM/EINVAL); the rename is still atomic there.
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = errno(err);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

/**
 * Replaces `file` with `data` atomically: temp file in the same folder (so rename never crosses a
 * filesystem), write + fsync, rename over the target, fsync the folder. A reader (or a process
 * killed at any point) sees either the old complete file or the new complete one, never a mix.
 * `durable: false` skips both fsyncs, for records that need not survive a crash of the machine
 * (analysis leases): still atomic for readers and for a killed process.
 */
export async function writeFileAtomic(file: string, data: string, options: { durable?: boolean } = {}): Promise<void> {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const temp = path.join(dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(temp, 'wx', 0o644);
    await handle.writeFile(data, 'utf8');
    if (durable) await handle.sync();
    await handle.close();
    handle = undefined;
    await fsp.rename(temp, file);
    if (durable) await fsyncDir(dir);
  } catch (err) {
    await handle?.close().catch(() => undefined);
    await fsp.unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** Same as writeFileAtomic, creating the folder first when it is missing. */
export async function writeFileAtomicMkdir(file: string, data: string): Promise<void> {
  try {
    await writeFileAtomic(file, data);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    await fsp.mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, data);
  }
}

/** Reads a file, or null when it does not exist. */
export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** Lists a folder's entries that are not hidden or temp files; [] when the folder is missing. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await fsp.readdir(dir)).filter((n) => !n.startsWith('.'));
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Runs tasks one at a time per key, in arrival order, within this process. */
export class KeyedMutex {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }
}

/** In-process serialisation per lock file path, shared by every FileLock in this process. */
const PROCESS_LOCKS = new KeyedMutex();
/** Nonces of the lock files this process holds right now. */
const HELD = new Set<string>();

interface LockContent {
  readonly pid: number;
  readonly host: string;
  readonly nonce: string;
  readonly at: number;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errno(err) === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A lock file shared by every process that opens the same store folder (created with O_EXCL).
 * Critical sections are short (a few file writes), so a lock is stale when its holder is a dead
 * process on this host, when it names this process but not our own nonce (a previous life with the
 * same pid, e.g. pid 1 in a restarted container), or when it is older than `staleMs`. Limitation,
 * as with proper-lockfile: two waiters that break the same stale lock within the same instant can
 * both enter once; this needs a holder to die while two others wait.
 */
export class FileLock {
  readonly #file: string;
  readonly #staleMs: number;
  readonly #timeoutMs: number;

  constructor(file: string, options: { staleMs?: number; timeoutMs?: number } = {}) {
    this.#file = path.resolve(file);
    this.#staleMs = options.staleMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
  }

  /**
   * Runs `task` holding the lock: first one holder per process (shared by every FileLock on the same
   * path, so two stores on one folder in one process queue instead of contending), then one across
   * processes. While held, the lock file's mtime is refreshed so a long step is not taken for stale.
   */
  run<T>(task: () => Promise<T>): Promise<T> {
    return PROCESS_LOCKS.run(this.#file, async () => {
      const nonce = await this.#acquire();
      HELD.add(nonce);
      const heartbeat = setInterval(() => {
        const now = new Date();
        fsp.utimes(this.#file, now, now).catch(() => undefined);
      }, Math.max(10, Math.floor(this.#staleMs / 3)));
      heartbeat.unref();
      try {
        return await task();
      } finally {
        clearInterval(heartbeat);
        HELD.delete(nonce);
        await this.#release(nonce);
      }
    });
  }

  async #acquire(): Promise<string> {
    const nonce = randomBytes(8).toString('hex');
    const content: LockContent = { pid: process.pid, host: os.hostname(), nonce, at: Date.now() };
    const started = Date.now();
    let wait = 2;
    for (;;) {
      try {
        await fsp.writeFile(this.#file, JSON.stringify(content), { flag: 'wx' });
        return nonce;
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw unavailable(`create lock file ${this.#file}`, err);
      }
      if (await this.#breakIfStale()) continue;
      if (Date.now() - started > this.#timeoutMs) {
        throw new PolicyStoreError('CAPGATE_POLICY_STORE_UNAVAILABLE', `policy store: lock ${this.#file} still held after ${this.#timeoutMs} ms`);
      }
      await sleep(wait);
      wait = Math.min(wait * 2, 50);
    }
  }

  async #breakIfStale(): Promise<boolean> {
    let raw: string;
    let mtimeMs: number;
    try {
      raw = await fsp.readFile(this.#file, 'utf8');
      mtimeMs = (await fsp.stat(this.#file)).mtimeMs;
    } catch (err) {
      if (isNotFound(err)) return true; // released meanwhile: try again at once
      throw unavailable(`read lock file ${this.#file}`, err);
    }
    let stale: boolean;
    const age = Date.now() - mtimeMs;
    try {
      const held = JSON.parse(raw) as LockContent;
      const sameHost = held.host === os.hostname();
      stale =
        age > this.#staleMs ||
        (sameHost && held.pid === process.pid && !HELD.has(held.nonce)) || // ours by pid but not held here: a previous life's
        (sameHost && !isAlive(held.pid));
    } catch {
      // Torn lock file: its writer died between create and write (or is writing right now).
      stale = age > 1_000;
    }
    if (!stale) return false;
    const aside = `${this.#file}.stale-${randomBytes(6).toString('hex')}`;
    try {
      await fsp.rename(this.#file, aside);
      await fsp.unlink(aside);
    } catch (err) {
      if (!isNotFound(err)) throw unavailable(`break stale lock ${this.#file}`, err);
    }
    return true;
  }

  async #release(nonce: string): Promise<void> {
    try {
      const raw = await fsp.readFile(this.#file, 'utf8');
      if ((JSON.parse(raw) as LockContent).nonce === nonce) await fsp.unlink(this.#file);
    } catch {
      // Already broken by someone else (we overran staleMs); nothing to release.
    }
  }
}
