// Owns the embedded default PolicyStore: JSON files under one folder (`<verdaccio storage>/.capgate`).
//
// Layout (every record file carries `"schema": 1` and a `kind`; `meta.json` names the store's schema):
//   meta.json                          store-level schema version
//   store.lock                         cross-process lock (see FileLock) for read-modify-write steps
//   audit.log                          append-only JSON lines, ids monotonic; also the decision journal
//   policies/<name>/<version>.json     StoredPolicy
//   decisions/<name>/<version>.json    DecisionRecord + the audit id that wrote it
//   approvals/<name>/<id>.json         ScopedApproval
//   outbox/pending/<event>.json        an event and its deliveries, while one is undelivered
//   outbox/done/<event>.json           the same once all are delivered (kept: enqueue stays a no-op)
//   leases/<key>.json                  analysis leases
// <name> and <version> are encoded by encodeSegment (one segment, no separators, no `..`).
//
// Concurrency: every file is replaced atomically (temp + fsync + rename + fsync dir), so readers
// need no lock. Steps that read then write (setDecision, audit append, outbox, leases) run under
// store.lock, which serialises them within this process and across processes sharing the folder;
// putPolicy is a blind overwrite, serialised per key in this process.
//
// Audit log and decisions: the audit line of a decision carries the whole record and is appended
// (one write, fsynced) *before* the decision file is replaced, under the lock. A process killed
// between the two leaves a journal line whose file is older; the next holder of the lock that reads
// that line (or the next init) rewrites the file from it, so no acknowledged decision is ever lost
// and none is ever applied without its audit entry. A line is complete only with its newline; a
// torn tail (a killed writer) is skipped by readers and cut off by the next appender, and the bytes
// of an append that fails are truncated away before its callers are rejected, so that no rejected
// decision is ever replayed. Readers reading on from an earlier read check that ids follow on, and
// read the whole log again when they do not (it was rewritten after they read it).
// The log is also the change feed between processes: each process keeps an in-memory index of
// decisions (for listByState) and the audit entries, and reads only the log's new bytes on each call.
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, promises as fsp, watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { PackagePolicy } from '../analyzer/types';
import { FileLock, KeyedMutex, TEMP_PREFIX, errno, isNotFound, listDir, readIfExists, unavailable, writeFileAtomic, writeFileAtomicMkdir } from './fs-util';
import { assertPackageName, assertText, assertVersion, encodeSegment, versionProblem } from './keys';
import { PolicyStoreError } from './store';
import type {
  AlertEvent,
  AuditEntry,
  DecisionRecord,
  OutboxDelivery,
  PolicyStore,
  ScopedApproval,
  StoreLogger,
  StoredPolicy,
  VersionState,
} from './store';
import { assertClaim, assertLease, assertLimit, assertOutboxKeys, validateApproval, validateAuditEntry, validateDecisionInput, validateEvent, VERSION_STATES } from './validate';
import { notifyDecisionListeners } from './listeners';

/** Schema version of the store folder and of every record file. */
export const FILE_STORE_SCHEMA = 1;
const META_KIND = 'capgate-policy-store';
/** Decision lines re-checked against their files by one locked catch-up (see header). */
const REPAIR_WINDOW = 256;
/** A lease file younger than this that cannot be read is being written by its creator: held. */
const TORN_LEASE_GRACE_MS = 2_000;
/** A lease released with at least this much of its lifetime left is removed without store.lock. */
const LEASE_RELEASE_MARGIN_MS = 2_000;
const HELD_LEASE: Record<string, unknown> = Object.freeze({});
/** Audit log read size. */
const READ_CHUNK = 4 * 1024 * 1024;
/** #parseLine's answer to a line that shows the log was rewritten after an earlier read. */
const REWOUND = Symbol('rewound');

export interface FileStoreOptions {
  /** The store folder, e.g. `<verdaccio storage>/.capgate`. Created if missing. */
  readonly dir: string;
  readonly logger?: StoreLogger;
  /** How long to wait for store.lock before CAPGATE_POLICY_STORE_UNAVAILABLE (default 60 s). */
  readonly lockTimeoutMs?: number;
  /** Age after which a lock file is considered abandoned (default 30 s). */
  readonly lockStaleMs?: number;
  /** Audit log read size (default 4 MiB); tests set it tiny to cross chunk boundaries. */
  readonly readChunkBytes?: number;
}

interface IndexEntry {
  readonly name: string;
  readonly version: string;
  readonly state: VersionState;
  readonly updatedAt: string;
  readonly auditId: number;
}

interface DeliveryState {
  readonly target: string;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
  readonly claim: { readonly owner: string; readonly until: string } | null;
  readonly deliveredAt: string | null;
}

interface OutboxFile {
  readonly schema: number;
  readonly kind: 'outbox';
  readonly event: AlertEvent;
  readonly deliveries: readonly DeliveryState[];
}

interface AuditLine extends AuditEntry {
  readonly schema: number;
  readonly record?: DecisionRecord;
}

interface QueuedDecision {
  readonly input: Omit<DecisionRecord, 'createdAt' | 'updatedAt'>;
  readonly iso: string;
  resolve(record: DecisionRecord): void;
  reject(err: unknown): void;
}

interface CatchUp {
  /**
   * Bytes after the last complete line (a torn tail, or a line being written by another process).
   * Passing a CatchUp says the caller has caught up under the lock.
   */
  readonly tornBytes: number;
}

const keyOf = (name: string, version: string): string => `${name}\u0000${version}`;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function corrupt(file: string, why: string, cause?: unknown): PolicyStoreError {
  return new PolicyStoreError('CAPGATE_POLICY_STORE_CORRUPT', `policy store: ${file} is corrupt: ${why}`, cause === undefined ? { file } : { file, cause });
}

/** The embedded default PolicyStore. See the module header for layout and guarantees. */
export class FileStore implements PolicyStore {
  readonly dir: string;
  readonly #logger: StoreLogger | undefined;
  readonly #lock: FileLock;
  readonly #keys = new KeyedMutex();
  readonly #feed = new KeyedMutex();
  readonly #listeners = new Set<(name: string, version: string) => void>();
  #initPromise: Promise<void> | null = null;
  #initialised = false;
  #closed = false;
  // In-memory view of audit.log, advanced by #catchUp.
  #audit: AuditEntry[] = [];
  #auditOffset = 0;
  #lastAuditId = 0;
  #index = new Map<string, IndexEntry>();
  readonly #readChunk: number;
  #watcher: FSWatcher | null = null;
  /** Decisions waiting for the next group commit (see #commitDecisions). */
  readonly #decisionQueue: QueuedDecision[] = [];
  #committing = false;

  constructor(options: FileStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.#readChunk = Math.max(1, options.readChunkBytes ?? READ_CHUNK);
    this.#logger = options.logger;
    const lockOptions: { staleMs?: number; timeoutMs?: number } = {};
    if (options.lockStaleMs !== undefined) lockOptions.staleMs = options.lockStaleMs;
    if (options.lockTimeoutMs !== undefined) lockOptions.timeoutMs = options.lockTimeoutMs;
    this.#lock = new FileLock(path.join(this.dir, 'store.lock'), lockOptions);
  }

  // ---------------------------------------------------------------- paths

  #auditPath(): string {
    return path.join(this.dir, 'audit.log');
  }
  #policyPath(name: string, version: string): string {
    return path.join(this.dir, 'policies', encodeSegment(name), `${encodeSegment(version)}.json`);
  }
  #decisionDir(name: string): string {
    return path.join(this.dir, 'decisions', encodeSegment(name));
  }
  #decisionPath(name: string, version: string): string {
    return path.join(this.#decisionDir(name), `${encodeSegment(version)}.json`);
  }
  #approvalDir(name: string): string {
    return path.join(this.dir, 'approvals', encodeSegment(name));
  }
  #outboxPath(which: 'pending' | 'done', eventId: string): string {
    return path.join(this.dir, 'outbox', which, `${encodeSegment(eventId)}.json`);
  }
  #leasePath(key: string): string {
    return path.join(this.dir, 'leases', `${encodeSegment(key)}.json`);
  }

  // ---------------------------------------------------------------- lifecycle

  /** Creates the folder layout and meta file, then loads the audit log. Safe to call again and concurrently. */
  init(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (!this.#initPromise) {
      this.#initPromise = this.#doInit().catch((err: unknown) => {
        this.#initPromise = null;
        throw unavailable(`open ${this.dir}`, err);
      });
    }
    return this.#initPromise;
  }

  async #doInit(): Promise<void> {
    for (const sub of ['policies', 'decisions', 'approvals', 'outbox/pending', 'outbox/done', 'leases']) {
      await fsp.mkdir(path.join(this.dir, sub), { recursive: true });
    }
    await fsp.access(this.dir, fsConstants.R_OK | fsConstants.W_OK);
    const metaFile = path.join(this.dir, 'meta.json');
    let raw = await readIfExists(metaFile);
    if (raw === null) {
      await writeFileAtomic(metaFile, `${JSON.stringify({ schema: FILE_STORE_SCHEMA, kind: META_KIND, createdAt: new Date().toISOString() })}\n`);
      raw = await fsp.readFile(metaFile, 'utf8');
    }
    let meta: unknown;
    try {
      meta = JSON.parse(raw);
    } catch (err) {
      throw corrupt(metaFile, 'not JSON', err);
    }
    if (!isObject(meta) || meta.kind !== META_KIND || typeof meta.schema !== 'number') throw corrupt(metaFile, 'not a capgate store meta file');
    if (meta.schema > FILE_STORE_SCHEMA) {
      throw new PolicyStoreError('CAPGATE_POLICY_STORE_UNAVAILABLE', `policy store: ${this.dir} has schema ${meta.schema}, newer than this capgate (${FILE_STORE_SCHEMA})`);
    }
    await this.#removeOldTemps([this.dir, path.join(this.dir, 'outbox', 'pending'), path.join(this.dir, 'outbox', 'done'), path.join(this.dir, 'leases')]);
    await this.#lock.run(() => this.#catchUp(true));
    this.#initialised = true;
    this.#watch();
  }

  /** Temp files of writers killed mid-write; only old ones, a live writer's are seconds old. */
  async #removeOldTemps(dirs: readonly string[]): Promise<void> {
    for (const dir of dirs) {
      const names = await fsp.readdir(dir).catch(() => [] as string[]);
      for (const n of names) {
        if (!n.startsWith(TEMP_PREFIX) && !n.startsWith('store.lock.stale-')) continue;
        const file = path.join(dir, n);
        const stat = await fsp.stat(file).catch(() => null);
        if (stat && Date.now() - stat.mtimeMs > 15 * 60_000) await fsp.unlink(file).catch(() => undefined);
      }
    }
  }

  async health(): Promise<void> {
    await this.#ready();
    try {
      await fsp.access(this.dir, fsConstants.R_OK | fsConstants.W_OK);
      await fsp.stat(path.join(this.dir, 'meta.json'));
    } catch (err) {
      throw unavailable(`reach ${this.dir}`, err);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
    this.#unwatch();
    await this.#initPromise?.catch(() => undefined);
  }

  #closedError(): PolicyStoreError {
    return new PolicyStoreError('CAPGATE_POLICY_STORE_UNAVAILABLE', 'policy store: closed');
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw this.#closedError();
    await this.init();
  }

  /** Runs `task` as a public operation: ready first, fs failures become UNAVAILABLE. */
  async #op<T>(what: string, task: () => Promise<T>): Promise<T> {
    await this.#ready();
    try {
      return await task();
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  // ---------------------------------------------------------------- records

  async #readEnvelope(file: string, kind: string): Promise<Record<string, unknown> | null> {
    const raw = await readIfExists(file);
    if (raw === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (err) {
      throw corrupt(file, 'not JSON (torn or edited by hand)', err);
    }
    if (!isObject(parsed) || typeof parsed.schema !== 'number' || parsed.kind !== kind) throw corrupt(file, `not a ${kind} record`);
    if (parsed.schema > FILE_STORE_SCHEMA) throw corrupt(file, `schema ${parsed.schema} is newer than ${FILE_STORE_SCHEMA}`);
    return parsed;
  }

  async #readDecision(name: string, version: string): Promise<{ record: DecisionRecord; auditId: number } | null> {
    const file = this.#decisionPath(name, version);
    const env = await this.#readEnvelope(file, 'decision');
    if (!env) return null;
    const data = env.data;
    if (!isObject(data) || data.name !== name || data.version !== version || typeof data.state !== 'string' || typeof env.auditId !== 'number') {
      throw corrupt(file, `not the decision of ${name}@${version}`);
    }
    return { record: data as unknown as DecisionRecord, auditId: env.auditId };
  }

  async #writeDecision(record: DecisionRecord, auditId: number): Promise<void> {
    await writeFileAtomicMkdir(this.#decisionPath(record.name, record.version), `${JSON.stringify({ schema: FILE_STORE_SCHEMA, kind: 'decision', auditId, data: record })}\n`);
  }

  async getPolicy(p: { name: string; version: string }): Promise<StoredPolicy | null> {
    assertPackageName(p.name);
    assertVersion(p.version);
    return this.#op('read a policy', async () => {
      const file = this.#policyPath(p.name, p.version);
      const env = await this.#readEnvelope(file, 'policy');
      if (!env) return null;
      const data = env.data;
      if (!isObject(data) || data.name !== p.name || data.version !== p.version || !isObject(data.policy)) throw corrupt(file, `not the policy of ${p.name}@${p.version}`);
      return data as unknown as StoredPolicy;
    });
  }

  async putPolicy(p: { name: string; version: string; integrity: string; policy: PackagePolicy }): Promise<void> {
    assertPackageName(p.name);
    assertVersion(p.version);
    assertText('integrity', p.integrity, 1024);
    if (!isObject(p.policy)) throw new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', 'policy must be an object');
    const stored: StoredPolicy = { name: p.name, version: p.version, integrity: p.integrity, policy: p.policy, createdAt: new Date().toISOString() };
    const data = `${JSON.stringify({ schema: FILE_STORE_SCHEMA, kind: 'policy', data: stored })}\n`;
    await this.#op('write a policy', () => this.#keys.run(`policy:${keyOf(p.name, p.version)}`, () => writeFileAtomicMkdir(this.#policyPath(p.name, p.version), data)));
  }

  async getDecision(p: { name: string; version: string }): Promise<DecisionRecord | null> {
    assertPackageName(p.name);
    assertVersion(p.version);
    return this.#op('read a decision', async () => (await this.#readDecision(p.name, p.version))?.record ?? null);
  }

  async listDecisions(p: { name: string }): Promise<DecisionRecord[]> {
    assertPackageName(p.name);
    return this.#op('list decisions', async () => {
      const out: DecisionRecord[] = [];
      for (const file of await listDir(this.#decisionDir(p.name))) {
        if (!file.endsWith('.json')) continue;
        const env = await this.#readEnvelope(path.join(this.#decisionDir(p.name), file), 'decision');
        const data = env?.data;
        if (!isObject(data)) continue; // vanished meanwhile
        if (data.name !== p.name || typeof data.version !== 'string' || versionProblem(data.version) !== null) throw corrupt(path.join(this.#decisionDir(p.name), file), `not a decision of ${p.name}`);
        out.push(data as unknown as DecisionRecord);
      }
      return out;
    });
  }

  async listByState(p: { state: VersionState; limit?: number }): Promise<DecisionRecord[]> {
    if (!VERSION_STATES.includes(p.state)) throw new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', `unknown state ${JSON.stringify(p.state)}`);
    assertLimit(p.limit);
    const limit = p.limit ?? Number.POSITIVE_INFINITY;
    return this.#op('list decisions', async () => {
      await this.#catchUp(false);
      const candidates = [...this.#index.values()]
        .filter((e) => e.state === p.state)
        .sort((a, b) => (a.updatedAt === b.updatedAt ? b.auditId - a.auditId : a.updatedAt < b.updatedAt ? 1 : -1));
      const out: DecisionRecord[] = [];
      for (const entry of candidates) {
        if (out.length >= limit) break;
        // The file is the truth: another process may be between its journal line and its file write.
        const current = await this.#readDecision(entry.name, entry.version);
        if (current && current.record.state === p.state) out.push(current.record);
      }
      return out;
    });
  }

  async setDecision(p: { record: Omit<DecisionRecord, 'createdAt' | 'updatedAt'>; at?: Date }): Promise<DecisionRecord> {
    const input = validateDecisionInput(p.record);
    const iso = (p.at ?? new Date()).toISOString();
    return this.#op('write a decision', () => {
      const pending = new Promise<DecisionRecord>((resolve, reject) => this.#decisionQueue.push({ input, iso, resolve, reject }));
      this.#commitDecisions();
      return pending;
    });
  }

  /**
   * Group commit: the decisions queued while the previous batch held store.lock are written under
   * one lock, with their audit lines in one append (one fsync) and their files written side by
   * side. Each caller still gets its own record only once its line is durable and its file
   * replaced, exactly as if the decisions had been written one after the other in queue order.
   */
  #commitDecisions(): void {
    if (this.#committing) return;
    this.#committing = true;
    void (async () => {
      while (this.#decisionQueue.length > 0) {
        const batch = this.#decisionQueue.splice(0);
        try {
          await this.#locked((feed) => this.#writeDecisions(feed, batch));
        } catch (err) {
          for (const item of batch) item.reject(err);
        }
      }
      this.#committing = false;
    })();
  }

  async #writeDecisions(feed: CatchUp, batch: readonly QueuedDecision[]): Promise<void> {
    // The current record of every name@version in the batch, as the batch goes on. A key whose
    // file cannot be read fails its own callers only, as it would have alone.
    const current = new Map<string, DecisionRecord | null>();
    const unreadable = new Map<string, unknown>();
    await Promise.all(
      [...new Set(batch.map((b) => keyOf(b.input.name, b.input.version)))].map(async (k) => {
        const first = batch.find((b) => keyOf(b.input.name, b.input.version) === k) as QueuedDecision;
        let existing: DecisionRecord | null = null;
        try {
          existing = (await this.#readDecision(first.input.name, first.input.version))?.record ?? null;
        } catch (err) {
          if (!(err instanceof PolicyStoreError && err.code === 'CAPGATE_POLICY_STORE_CORRUPT')) {
            unreadable.set(k, err);
            return;
          }
          this.#logger?.warn({ file: err.file, code: err.code }, 'policy store: replacing a corrupt decision file');
        }
        current.set(k, existing);
      }),
    );
    // Identical repeats answer with the current record: the one on disk, or one of this batch,
    // which then stands or falls with that key's file write.
    const unchanged: { item: QueuedDecision; record: DecisionRecord; fromBatch: boolean }[] = [];
    const written: { item: QueuedDecision; record: DecisionRecord; entry: Omit<AuditEntry, 'id' | 'at'> }[] = [];
    const inBatch = new Set<string>();
    for (const item of batch) {
      const k = keyOf(item.input.name, item.input.version);
      const cannotRead = unreadable.get(k);
      if (cannotRead !== undefined) {
        item.reject(unavailable('write a decision', cannotRead));
        continue;
      }
      const existing = current.get(k) ?? null;
      if (existing) {
        const { createdAt: _c, updatedAt: _u, ...rest } = existing;
        if (isDeepStrictEqual(rest, item.input)) {
          unchanged.push({ item, record: existing, fromBatch: inBatch.has(k) }); // idempotent: same decision, no new audit entry
          continue;
        }
      }
      const record: DecisionRecord = { ...item.input, createdAt: existing?.createdAt ?? item.iso, updatedAt: item.iso };
      current.set(k, record);
      inBatch.add(k);
      written.push({
        item,
        record,
        entry: {
          name: record.name,
          version: record.version,
          action: record.state,
          by: record.by,
          reason: record.reason,
          details: { automatic: record.automatic, mode: record.mode, baseline: record.baseline, gained: record.diff.gained, integrity: record.integrity, rulesVersion: record.rulesVersion },
        },
      });
    }
    const entries = written.length === 0 ? [] : await this.#appendMany(feed, written.map((w) => ({ entry: w.entry, at: w.item.iso, record: w.record })));
    // Each file once, with the batch's last record for it (the journal holds every line).
    const last = new Map<string, { record: DecisionRecord; auditId: number }>();
    written.forEach((w, i) => last.set(keyOf(w.record.name, w.record.version), { record: w.record, auditId: (entries[i] as AuditEntry).id }));
    const failed = new Map<string, unknown>();
    await Promise.all(
      [...last].map(async ([k, { record, auditId }]) => {
        try {
          await this.#writeDecision(record, auditId);
          this.#index.set(k, { name: record.name, version: record.version, state: record.state, updatedAt: record.updatedAt, auditId });
        } catch (err) {
          // The line is in the journal: the next start (or another process catching up) rewrites the file from it.
          failed.set(k, err);
        }
      }),
    );
    for (const w of written) {
      const err = failed.get(keyOf(w.record.name, w.record.version));
      if (err !== undefined) {
        w.item.reject(unavailable('write a decision', err));
        continue;
      }
      this.#emit(w.record.name, w.record.version);
      w.item.resolve(w.record);
    }
    for (const u of unchanged) {
      const err = u.fromBatch ? failed.get(keyOf(u.record.name, u.record.version)) : undefined;
      if (err !== undefined) u.item.reject(unavailable('write a decision', err));
      else u.item.resolve(u.record);
    }
  }

  // ---------------------------------------------------------------- audit log

  async appendAudit(p: { entry: Omit<AuditEntry, 'id' | 'at'>; at?: Date }): Promise<AuditEntry> {
    const entry = validateAuditEntry(p.entry);
    const iso = (p.at ?? new Date()).toISOString();
    return this.#op('append to the audit log', () => this.#locked((feed) => this.#append(feed, entry, iso)));
  }

  async listAudit(p: { name?: string; limit?: number }): Promise<AuditEntry[]> {
    if (p.name !== undefined) assertPackageName(p.name);
    assertLimit(p.limit);
    const limit = p.limit ?? Number.POSITIVE_INFINITY;
    return this.#op('read the audit log', async () => {
      await this.#catchUp(false);
      const out: AuditEntry[] = [];
      for (let i = this.#audit.length - 1; i >= 0 && out.length < limit; i--) {
        const entry = this.#audit[i];
        if (entry && (p.name === undefined || entry.name === p.name)) out.push(entry);
      }
      return out;
    });
  }

  /** Holds store.lock, with the in-memory view caught up with the log, while `task` runs. */
  #locked<T>(task: (feed: CatchUp) => Promise<T>): Promise<T> {
    return this.#lock.run(async () => task(await this.#catchUp(true)));
  }

  /** Appends one line; caller holds the lock and has just caught up. */
  async #append(feed: CatchUp, entry: Omit<AuditEntry, 'id' | 'at'>, at: string, record?: DecisionRecord): Promise<AuditEntry> {
    const [full] = await this.#appendMany(feed, [record === undefined ? { entry, at } : { entry, at, record }]);
    return full as AuditEntry;
  }

  /** Appends lines in one write and one fsync, ids in order; caller holds the lock and has just caught up. */
  async #appendMany(feed: CatchUp, items: readonly { entry: Omit<AuditEntry, 'id' | 'at'>; at: string; record?: DecisionRecord }[]): Promise<AuditEntry[]> {
    // Inside the feed mutex, so an unlocked #catchUp in this process cannot read our lines half-accounted.
    return this.#feed.run('feed', async () => {
      const fulls: AuditEntry[] = [];
      let text = '';
      for (const item of items) {
        const full: AuditEntry = { id: this.#lastAuditId + 1 + fulls.length, at: item.at, ...item.entry };
        const line: AuditLine = item.record ? { schema: FILE_STORE_SCHEMA, ...full, record: item.record } : { schema: FILE_STORE_SCHEMA, ...full };
        text += `${JSON.stringify(line)}\n`;
        fulls.push(full);
      }
      // Caught up under the lock, so every byte after the last complete line is the tail of a writer
      // that died before its append was acknowledged: it is cut off, so that it can never become a
      // line of its own (the torn text may even be a whole JSON line short of its newline).
      const file = this.#auditPath();
      const base = this.#auditOffset;
      const handle = await fsp.open(file, 'a', 0o644); // O_APPEND
      try {
        const size = (await handle.stat()).size;
        if (size < base) throw new Error(`${file} shrank from ${base} to ${size} bytes while store.lock was held`);
        if (size > base) {
          this.#logger?.warn({ file, offset: base, bytes: size - base }, 'policy store: cutting off a torn audit tail');
          await handle.truncate(base);
        }
        try {
          await handle.writeFile(text, 'utf8');
          await handle.sync();
        } catch (err) {
          // Nobody was told these lines are durable: they must not be read back and applied
          // (a short write may have left some whole lines, a failed fsync all of them).
          await this.#rollBack(handle, base, err);
          throw err;
        }
      } finally {
        await handle.close();
      }
      this.#auditOffset = base + Buffer.byteLength(text);
      this.#lastAuditId += fulls.length;
      this.#audit.push(...fulls);
      return fulls;
    });
  }

  /**
   * Removes the bytes of a failed append (caller holds the lock and the feed mutex). Readers in
   * other processes that saw them notice the rewind by the ids (see #catchUp). If the disk refuses
   * even this, the lines stay and will be read as decided: said at warn, with the cause.
   */
  async #rollBack(handle: fsp.FileHandle, base: number, cause: unknown): Promise<void> {
    const file = this.#auditPath();
    try {
      await handle.truncate(base);
      await handle.sync();
      this.#logger?.warn({ file, offset: base, cause: String(cause) }, 'policy store: an audit append failed; its lines were removed');
    } catch (err) {
      this.#logger?.warn({ file, offset: base, cause: String(cause), error: String(err) }, 'policy store: an audit append failed and its lines could not be removed; they will be read as written');
    }
  }

  /**
   * Reads the log's bytes added since the last call (by other processes, or all of it at init).
   * With `locked`, nobody is writing: decision lines newer than their files are replayed.
   */
  #catchUp(locked: boolean): Promise<CatchUp> {
    return this.#feed.run('feed', async () => {
      const file = this.#auditPath();
      let handle: fsp.FileHandle;
      try {
        handle = await fsp.open(file, 'r');
      } catch (err) {
        if (isNotFound(err)) return { tornBytes: 0 };
        throw err;
      }
      // Lines seen in this call that carry a decision; only the last REPAIR_WINDOW are kept.
      const decisionLines: AuditLine[] = [];
      let size: number;
      try {
        size = (await handle.stat()).size;
        if (size < this.#auditOffset) {
          // Truncated or replaced by hand: start over rather than read from a wrong offset.
          this.#logger?.warn({ file, size, offset: this.#auditOffset }, 'policy store: audit log shrank, re-reading it');
          this.#forgetLog();
        }
        // Reading on from an earlier call, every line must carry the next id: anything else means
        // the bytes after our offset are not the ones we read before (a failed append removed after
        // we read it, then other lines written in its place), so the log is read again from the start.
        let strict = this.#auditOffset > 0;
        reading: for (;;) {
          // Read in chunks, so memory stays bounded by the chunk plus one line however long the log.
          let pos = this.#auditOffset;
          let carry = Buffer.alloc(0);
          while (pos < size) {
            const chunk = Buffer.alloc(Math.min(this.#readChunk, size - pos));
            const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
            if (bytesRead === 0) break;
            pos += bytesRead;
            const buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
            let start = 0;
            for (let nl = buf.indexOf(0x0a, start); nl >= 0; nl = buf.indexOf(0x0a, start)) {
              const line = this.#parseLine(buf.subarray(start, nl).toString('utf8'), this.#auditOffset, strict);
              if (line === REWOUND) {
                this.#logger?.warn({ file, offset: this.#auditOffset, lastId: this.#lastAuditId }, 'policy store: audit log was rewritten after it was read, re-reading it');
                this.#forgetLog();
                decisionLines.length = 0;
                strict = false;
                continue reading;
              }
              this.#auditOffset += nl + 1 - start;
              start = nl + 1;
              if (line) this.#take(line, decisionLines);
            }
            carry = buf.subarray(start);
          }
          break;
        }
      } finally {
        await handle.close();
      }
      if (locked) await this.#replay(decisionLines);
      // Bytes after the last complete line: a torn tail, or a line another process is writing now.
      return { tornBytes: size - this.#auditOffset };
    });
  }

  /** Adds one parsed log line to the in-memory view. */
  #take(line: AuditLine, decisionLines: AuditLine[]): void {
    const { schema: _s, record, ...entry } = line;
    this.#audit.push(entry);
    this.#lastAuditId = line.id;
    if (!record) return;
    decisionLines.push(line);
    if (decisionLines.length > REPAIR_WINDOW) decisionLines.shift();
    this.#index.set(keyOf(record.name, record.version), { name: record.name, version: record.version, state: record.state, updatedAt: record.updatedAt, auditId: line.id });
    if (this.#initialised) this.#emit(record.name, record.version);
  }

  /** Forgets everything read from the log, so that the next read starts at its first byte. */
  #forgetLog(): void {
    this.#audit = [];
    this.#auditOffset = 0;
    this.#lastAuditId = 0;
    this.#index.clear();
  }

  /**
   * One complete line: the entry, null for a line to skip, or REWOUND when `strict` (reading on
   * from an earlier call) and the line is not the well-formed next one.
   */
  #parseLine(text: string, offset: number, strict: boolean): AuditLine | null | typeof REWOUND {
    if (text.trim() === '') return null;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      if (strict) return REWOUND;
      this.#logger?.warn({ file: this.#auditPath(), offset }, 'policy store: skipping a torn audit line');
      return null;
    }
    if (strict && !(isObject(line) && line.id === this.#lastAuditId + 1)) return REWOUND;
    if (!isObject(line) || typeof line.id !== 'number' || typeof line.name !== 'string' || typeof line.action !== 'string' || line.id <= this.#lastAuditId) {
      // An id of its own is still taken, so the next line (and the next append) carries the one after.
      if (isObject(line) && typeof line.id === 'number' && line.id > this.#lastAuditId) this.#lastAuditId = line.id;
      this.#logger?.warn({ file: this.#auditPath(), offset }, 'policy store: skipping an invalid audit line');
      return null;
    }
    const record = line.record;
    if (record !== undefined && (!isObject(record) || record.name !== line.name || record.version !== line.version || typeof record.state !== 'string')) {
      this.#lastAuditId = line.id;
      this.#logger?.warn({ file: this.#auditPath(), offset }, 'policy store: skipping an audit line with an invalid record');
      return null;
    }
    return line as unknown as AuditLine;
  }

  /** Rewrites decision files older than their journal line (writer killed between the two). */
  async #replay(lines: readonly AuditLine[]): Promise<void> {
    const latest = new Map<string, AuditLine>();
    for (const line of lines) if (line.record) latest.set(keyOf(line.record.name, line.record.version), line);
    for (const line of latest.values()) {
      const record = line.record;
      if (!record || versionProblem(record.version) !== null) continue;
      let current: { auditId: number } | null = null;
      try {
        current = await this.#readDecision(record.name, record.version);
      } catch (err) {
        if (!(err instanceof PolicyStoreError && err.code === 'CAPGATE_POLICY_STORE_CORRUPT')) throw err;
      }
      if (current && current.auditId >= line.id) continue;
      this.#logger?.warn({ pkg: record.name, version: record.version, auditId: line.id }, 'policy store: replaying a decision from the audit log');
      await this.#writeDecision(record, line.id);
    }
  }

  // ---------------------------------------------------------------- scoped approvals

  async addScopedApproval(p: { approval: Omit<ScopedApproval, 'id' | 'createdAt'>; at?: Date }): Promise<ScopedApproval> {
    const a = validateApproval(p.approval);
    const approval: ScopedApproval = {
      id: randomUUID(),
      name: a.name,
      range: a.range,
      capability: a.capability,
      expiresAt: a.expiresAt,
      by: a.by,
      reason: a.reason,
      createdAt: (p.at ?? new Date()).toISOString(),
    };
    await this.#op('write a scoped approval', () =>
      writeFileAtomicMkdir(path.join(this.#approvalDir(a.name), `${approval.id}.json`), `${JSON.stringify({ schema: FILE_STORE_SCHEMA, kind: 'scoped-approval', data: approval })}\n`),
    );
    return approval;
  }

  async listScopedApprovals(p: { name: string }): Promise<ScopedApproval[]> {
    assertPackageName(p.name);
    return this.#op('list scoped approvals', async () => {
      const dir = this.#approvalDir(p.name);
      const out: ScopedApproval[] = [];
      for (const file of await listDir(dir)) {
        if (!file.endsWith('.json')) continue;
        const env = await this.#readEnvelope(path.join(dir, file), 'scoped-approval');
        const data = env?.data;
        if (!env) continue;
        if (!isObject(data) || data.name !== p.name || typeof data.capability !== 'string') throw corrupt(path.join(dir, file), `not a scoped approval of ${p.name}`);
        out.push(data as unknown as ScopedApproval);
      }
      return out.sort((x, y) => (x.createdAt === y.createdAt ? (x.id < y.id ? -1 : 1) : x.createdAt < y.createdAt ? -1 : 1));
    });
  }

  // ---------------------------------------------------------------- alert outbox

  async enqueueEvent(p: { event: AlertEvent; targets: readonly string[] }): Promise<void> {
    const event = validateEvent(p.event);
    const targets = [...new Set(p.targets)];
    for (const t of targets) assertText('target', t, 256);
    const now = new Date().toISOString();
    const due = event.createdAt < now ? event.createdAt : now;
    await this.#op('enqueue an alert', () =>
      this.#locked(async () => {
        const pending = this.#outboxPath('pending', event.id);
        const done = this.#outboxPath('done', event.id);
        if ((await readIfExists(pending)) !== null || (await readIfExists(done)) !== null) return; // same event id: no-op
        const file: OutboxFile = {
          schema: FILE_STORE_SCHEMA,
          kind: 'outbox',
          event,
          deliveries: targets.map((target) => ({ target, attempts: 0, nextAttemptAt: due, lastError: null, claim: null, deliveredAt: null })),
        };
        await writeFileAtomic(targets.length > 0 ? pending : done, `${JSON.stringify(file)}\n`);
      }),
    );
  }

  /** Every readable pending outbox file; corrupt ones are logged and skipped so one bad file cannot stop all alerts. */
  async #pendingOutbox(): Promise<Array<{ file: string; data: OutboxFile }>> {
    const dir = path.join(this.dir, 'outbox', 'pending');
    const out: Array<{ file: string; data: OutboxFile }> = [];
    for (const name of await listDir(dir)) {
      if (!name.endsWith('.json')) continue;
      const file = path.join(dir, name);
      try {
        const env = await this.#readEnvelope(file, 'outbox');
        if (!env) continue;
        if (!isObject(env.event) || !Array.isArray(env.deliveries)) throw corrupt(file, 'not an outbox record');
        out.push({ file, data: env as unknown as OutboxFile });
      } catch (err) {
        if (!(err instanceof PolicyStoreError && err.code === 'CAPGATE_POLICY_STORE_CORRUPT')) throw err;
        this.#logger?.warn({ file, code: err.code }, 'policy store: skipping a corrupt outbox file');
      }
    }
    return out;
  }

  async #saveOutbox(file: string, data: OutboxFile): Promise<void> {
    if (data.deliveries.every((d) => d.deliveredAt !== null)) {
      // Keep the event under done/ so that enqueueing it again stays a no-op.
      await writeFileAtomic(this.#outboxPath('done', data.event.id), `${JSON.stringify(data)}\n`);
      await fsp.unlink(file).catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    } else {
      await writeFileAtomic(file, `${JSON.stringify(data)}\n`);
    }
  }

  async claimDeliveries(p: { owner: string; limit: number; leaseMs: number; now?: Date }): Promise<OutboxDelivery[]> {
    assertClaim(p);
    const nowMs = (p.now ?? new Date()).getTime();
    const now = new Date(nowMs).toISOString();
    const until = new Date(nowMs + p.leaseMs).toISOString();
    return this.#op('claim alert deliveries', () =>
      this.#locked(async () => {
        const files = await this.#pendingOutbox();
        const due: Array<{ file: string; data: OutboxFile; d: DeliveryState }> = [];
        for (const f of files) {
          if (f.data.deliveries.every((d) => d.deliveredAt !== null)) {
            await this.#saveOutbox(f.file, f.data); // finish a move interrupted by a crash
            continue;
          }
          for (const d of f.data.deliveries) {
            if (d.deliveredAt === null && d.nextAttemptAt <= now && (d.claim === null || d.claim.until <= now)) due.push({ ...f, d });
          }
        }
        due.sort((a, b) =>
          a.d.nextAttemptAt !== b.d.nextAttemptAt
            ? a.d.nextAttemptAt < b.d.nextAttemptAt ? -1 : 1
            : a.data.event.createdAt !== b.data.event.createdAt
              ? a.data.event.createdAt < b.data.event.createdAt ? -1 : 1
              : `${a.data.event.id}\u0000${a.d.target}` < `${b.data.event.id}\u0000${b.d.target}` ? -1 : 1,
        );
        const chosen = due.slice(0, p.limit);
        const byFile = new Map<string, { data: OutboxFile; targets: Set<string> }>();
        for (const c of chosen) {
          const entry = byFile.get(c.file) ?? { data: c.data, targets: new Set<string>() };
          entry.targets.add(c.d.target);
          byFile.set(c.file, entry);
        }
        for (const [file, { data, targets }] of byFile) {
          const deliveries = data.deliveries.map((d) => (targets.has(d.target) ? { ...d, claim: { owner: p.owner, until } } : d));
          await this.#saveOutbox(file, { ...data, deliveries });
        }
        return chosen.map((c) => ({ event: c.data.event, target: c.d.target, attempts: c.d.attempts, nextAttemptAt: c.d.nextAttemptAt, lastError: c.d.lastError }));
      }),
    );
  }

  async #updateDelivery(eventId: string, target: string, owner: string, change: (d: DeliveryState) => DeliveryState): Promise<void> {
    await this.#locked(async () => {
      const file = this.#outboxPath('pending', eventId);
      const env = await this.#readEnvelope(file, 'outbox');
      if (!env) return;
      const data = env as unknown as OutboxFile;
      if (!Array.isArray(data.deliveries)) throw corrupt(file, 'not an outbox record');
      const current = data.deliveries.find((d) => d.target === target);
      if (!current || current.deliveredAt !== null || current.claim?.owner !== owner) return; // not the claim owner: no-op
      await this.#saveOutbox(file, { ...data, deliveries: data.deliveries.map((d) => (d === current ? change(d) : d)) });
    });
  }

  async completeDelivery(p: { eventId: string; target: string; owner: string }): Promise<void> {
    assertOutboxKeys(p);
    const at = new Date().toISOString();
    await this.#op('complete an alert delivery', () => this.#updateDelivery(p.eventId, p.target, p.owner, (d) => ({ ...d, claim: null, deliveredAt: at })));
  }

  async failDelivery(p: { eventId: string; target: string; owner: string; error: string; nextAttemptAt: Date }): Promise<void> {
    assertOutboxKeys(p);
    if (!(p.nextAttemptAt instanceof Date) || Number.isNaN(p.nextAttemptAt.getTime())) throw new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', 'nextAttemptAt must be a valid Date');
    const next = p.nextAttemptAt.toISOString();
    const error = String(p.error).slice(0, 2000);
    await this.#op('record a failed alert delivery', () =>
      this.#updateDelivery(p.eventId, p.target, p.owner, (d) => ({ ...d, attempts: d.attempts + 1, lastError: error, nextAttemptAt: next, claim: null })),
    );
  }

  async outboxDepth(): Promise<number> {
    return this.#op('count the alert outbox', async () => {
      let depth = 0;
      for (const f of await this.#pendingOutbox()) depth += f.data.deliveries.filter((d) => d.deliveredAt === null).length;
      return depth;
    });
  }

  // ---------------------------------------------------------------- leases and change listeners

  /**
   * Leases are short-lived and need not survive a crash of the machine, so they are written without
   * fsync. Taking a free lease is one exclusive create (O_EXCL), outside store.lock: it succeeds for
   * exactly one caller. Everything that replaces or removes an existing lease file (renewal,
   * takeover of an expired or torn one, a release that might race a takeover) runs under the
   * lock, and while the file exists no exclusive create can succeed, so the two paths never both
   * win. A lease file too young to be torn by a dead writer counts as held.
   */
  async acquireLease(p: { key: string; owner: string; ttlMs: number; now?: Date }): Promise<boolean> {
    assertLease(p);
    const nowMs = (p.now ?? new Date()).getTime();
    const file = this.#leasePath(p.key);
    const content = JSON.stringify({ schema: FILE_STORE_SCHEMA, kind: 'lease', key: p.key, owner: p.owner, until: new Date(nowMs + p.ttlMs).toISOString() });
    return this.#op('take an analysis lease', async () => {
      try {
        await fsp.writeFile(file, content, { flag: 'wx', mode: 0o644 });
        return true;
      } catch (err) {
        if (errno(err) !== 'EEXIST') throw err;
      }
      return this.#locked(async () => {
        const env = await this.#readEnvelope(file, 'lease').catch(async (err: unknown) => {
          if (!(err instanceof PolicyStoreError && err.code === 'CAPGATE_POLICY_STORE_CORRUPT')) throw err;
          // Torn: its creator died between create and write (a torn lease is no lease), or is
          // writing it right now (then it is held).
          const stat = await fsp.stat(file).catch(() => null);
          return stat !== null && Date.now() - stat.mtimeMs < TORN_LEASE_GRACE_MS ? HELD_LEASE : null;
        });
        if (env === HELD_LEASE) return false;
        if (env && env.owner !== p.owner && typeof env.until === 'string' && Date.parse(env.until) > nowMs) return false;
        await writeFileAtomic(file, content, { durable: false });
        return true;
      });
    });
  }

  async releaseLease(p: { key: string; owner: string }): Promise<void> {
    assertLease(p);
    await this.#op('release an analysis lease', async () => {
      const file = this.#leasePath(p.key);
      const env = await this.#readEnvelope(file, 'lease').catch(() => null);
      if (!env || env.owner !== p.owner) return;
      // Still well within its lifetime: nobody can take it over before the unlink (takeover needs an
      // expired lease), so no lock is needed. An older one goes through the lock, which takeovers hold.
      if (typeof env.until === 'string' && Date.parse(env.until) - Date.now() > LEASE_RELEASE_MARGIN_MS) {
        await fsp.unlink(file).catch(() => undefined);
        return;
      }
      await this.#locked(async () => {
        const again = await this.#readEnvelope(file, 'lease').catch(() => null);
        if (again && again.owner === p.owner) await fsp.unlink(file).catch(() => undefined);
      });
    });
  }

  /**
   * Calls `listener` after a decision changes: at once for this store's own writes, and for writes
   * by other processes sharing the folder when the audit log changes (fs.watch; where the platform
   * cannot watch, on this store's next read). Returns unsubscribe.
   */
  onDecisionChanged(listener: (name: string, version: string) => void): () => void {
    this.#listeners.add(listener);
    this.#watch();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) this.#unwatch();
    };
  }

  #watch(): void {
    // Before init the folder may not exist yet: init starts the watch once it has made it.
    if (this.#watcher || this.#closed || !this.#initialised || this.#listeners.size === 0) return;
    try {
      // Watch the folder, not the file: audit.log may not exist yet.
      this.#watcher = watch(this.dir, { persistent: false }, (_event, file) => {
        if (file !== null && file !== 'audit.log') return;
        if (!this.#initialised || this.#closed) return;
        this.#catchUp(false).catch((err: unknown) => this.#logger?.warn({ err: String(err) }, 'policy store: cannot read the audit log after a change'));
      });
      this.#watcher.on('error', (err) => {
        this.#logger?.warn({ err: String(err) }, 'policy store: stopped watching the audit log');
        this.#unwatch();
      });
    } catch (err) {
      this.#logger?.warn({ err: String(err) }, 'policy store: cannot watch the audit log; other processes\' changes are seen on the next read');
    }
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = null;
  }

  #emit(name: string, version: string): void {
    notifyDecisionListeners(this.#listeners, name, version, this.#logger);
  }
}
