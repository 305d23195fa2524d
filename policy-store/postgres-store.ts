// Owns the PolicyStore on PostgreSQL, shared by several gated registries: one schema (default
// `capgate`) with numbered migrations applied at start-up under an advisory lock, outbox claims
// with FOR UPDATE SKIP LOCKED plus a lease column, analysis leases as rows, and decision changes
// broadcast with LISTEN/NOTIFY so every instance can drop its cached entry at once.
//
// Clocks: when a caller passes `now` (tests, replays) it is used as given; otherwise lease and
// claim times come from the database clock, so instances with skewed clocks still agree.
import { createHash, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Client, Pool } from 'pg';
import type { PoolClient, QueryResultRow } from 'pg';
import type { PackagePolicy } from '../analyzer/types';
import { assertPackageName, assertText, assertVersion } from './keys';
import { loadMigrations } from './migrations';
import { PolicyStoreError } from './store';
import type { AlertEvent, AuditEntry, DecisionRecord, OutboxDelivery, PolicyStore, ScopedApproval, StoreLogger, StoredPolicy, VersionState } from './store';
import { assertClaim, assertLease, assertLimit, assertOutboxKeys, validateApproval, validateAuditEntry, validateDecisionInput, validateEvent, VERSION_STATES } from './validate';
import { notifyDecisionListeners } from './listeners';

export interface PostgresStoreOptions {
  /** A libpq-style URL, e.g. from DATABASE_URL. */
  readonly url: string;
  /** Schema holding the tables (created if missing). Lowercase letters, digits and `_`. Default `capgate`. */
  readonly schema?: string;
  readonly logger?: StoreLogger;
  /** Pool size (default 10). */
  readonly max?: number;
  /** Connection timeout in ms (default 10 000). */
  readonly connectionTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function errText(err: unknown): string {
  if (err instanceof Error) {
    const code = 'code' in err && typeof err.code === 'string' ? ` (${err.code})` : '';
    return `${err.message}${code}`;
  }
  return String(err);
}

function unavailable(what: string, err: unknown): PolicyStoreError {
  if (err instanceof PolicyStoreError) return err;
  return new PolicyStoreError('CAPGATE_POLICY_STORE_UNAVAILABLE', `policy store: cannot ${what}: ${errText(err)}`, { cause: err });
}

function corrupt(where: string, why: string, cause?: unknown): PolicyStoreError {
  return new PolicyStoreError('CAPGATE_POLICY_STORE_CORRUPT', `policy store: ${where} is corrupt: ${why}`, cause === undefined ? { file: where } : { file: where, cause });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const iso = (d: unknown): string => (d instanceof Date ? d.toISOString() : new Date(String(d)).toISOString());

function parseJson(where: string, text: unknown): unknown {
  if (typeof text !== 'string') throw corrupt(where, 'missing document');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw corrupt(where, 'not JSON', err);
  }
}

/** The PostgreSQL PolicyStore. See the module header. */
export class PostgresStore implements PolicyStore {
  readonly schema: string;
  readonly #s: string;
  readonly #pool: Pool;
  readonly #url: string;
  readonly #logger: StoreLogger | undefined;
  readonly #channel: string;
  /** Tags our own NOTIFYs so this instance does not report its own change twice. */
  readonly #instance = randomUUID();
  readonly #listeners = new Set<(name: string, version: string) => void>();
  #listenClient: Client | null = null;
  #listenStarting: Promise<void> | null = null;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #initPromise: Promise<void> | null = null;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    const schema = options.schema ?? 'capgate';
    if (!SCHEMA_NAME.test(schema)) throw new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', `invalid schema name ${JSON.stringify(schema)}`);
    this.schema = schema;
    this.#s = `"${schema}"`;
    this.#url = options.url;
    this.#logger = options.logger;
    // NOTIFY channels are identifiers (63 bytes): a hash keeps long schema names apart.
    this.#channel = `capgate_decision_${createHash('sha256').update(schema).digest('hex').slice(0, 16)}`;
    this.#pool = new Pool({ connectionString: options.url, max: options.max ?? 10, connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000 });
    // An idle client losing its connection emits 'error' on the pool; unhandled, it would crash the process.
    this.#pool.on('error', (err) => this.#logger?.warn({ err: errText(err) }, 'policy store: idle PostgreSQL connection failed'));
  }

  // ---------------------------------------------------------------- lifecycle

  /** Applies pending migrations under an advisory lock (safe when several instances start at once). */
  init(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (!this.#initPromise) {
      this.#initPromise = this.#migrate().catch((err: unknown) => {
        this.#initPromise = null;
        throw unavailable(`prepare schema ${this.schema}`, err);
      });
    }
    return this.#initPromise;
  }

  async #migrate(): Promise<void> {
    const migrations = loadMigrations();
    const client = await this.#pool.connect();
    const lockKey = `capgate-migrate:${this.schema}`;
    try {
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#s}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${this.#s}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
        const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM ${this.#s}.schema_migrations`)).rows.map((r) => r.version));
        const newest = Math.max(0, ...applied);
        if (newest > migrations.length) {
          throw new PolicyStoreError('CAPGATE_POLICY_STORE_UNAVAILABLE', `policy store: schema ${this.schema} is at migration ${newest}, newer than this capgate (${migrations.length})`);
        }
        for (const m of migrations) {
          if (applied.has(m.version)) continue;
          await client.query('BEGIN');
          try {
            await client.query(`SET LOCAL search_path TO ${this.#s}`);
            await client.query(m.sql);
            await client.query(`INSERT INTO ${this.#s}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
            await client.query('COMMIT');
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
          this.#logger?.debug?.({ schema: this.schema, migration: m.version }, 'policy store: migration applied');
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]);
      }
    } finally {
      client.release();
    }
  }

  async health(): Promise<void> {
    await this.#ready();
    await this.#query('reach PostgreSQL', `SELECT 1 FROM ${this.#s}.schema_migrations LIMIT 1`);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listeners.clear();
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    await this.#initPromise?.catch(() => undefined);
    await this.#listenStarting?.catch(() => undefined);
    const listen = this.#listenClient;
    this.#listenClient = null;
    await listen?.end().catch(() => undefined);
    await this.#pool.end().catch(() => undefined);
  }

  #closedError(): PolicyStoreError {
    return new PolicyStoreError('CAPGATE_POLICY_STORE_UNAVAILABLE', 'policy store: closed');
  }

  async #ready(): Promise<void> {
    if (this.#closed) throw this.#closedError();
    await this.init();
  }

  async #query<R extends QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    await this.#ready();
    try {
      return (await this.#pool.query<R>(sql, params)).rows;
    } catch (err) {
      throw unavailable(what, err);
    }
  }

  /** Runs `task` in one transaction on one client. */
  async #tx<T>(what: string, task: (client: PoolClient) => Promise<T>): Promise<T> {
    await this.#ready();
    let client: PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw unavailable(what, err);
    }
    try {
      await client.query('BEGIN');
      const result = await task(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw unavailable(what, err);
    } finally {
      client.release();
    }
  }

  // ---------------------------------------------------------------- policies and decisions

  async getPolicy(p: { name: string; version: string }): Promise<StoredPolicy | null> {
    assertPackageName(p.name);
    assertVersion(p.version);
    const rows = await this.#query<{ integrity: string; policy: string; created_at: Date }>(
      'read a policy',
      `SELECT integrity, policy::text AS policy, created_at FROM ${this.#s}.policies WHERE name = $1 AND version = $2`,
      [p.name, p.version],
    );
    const row = rows[0];
    if (!row) return null;
    const policy = parseJson(`policies:${p.name}@${p.version}`, row.policy);
    if (!isObject(policy)) throw corrupt(`policies:${p.name}@${p.version}`, 'policy is not an object');
    return { name: p.name, version: p.version, integrity: row.integrity, policy: policy as unknown as PackagePolicy, createdAt: iso(row.created_at) };
  }

  async putPolicy(p: { name: string; version: string; integrity: string; policy: PackagePolicy }): Promise<void> {
    assertPackageName(p.name);
    assertVersion(p.version);
    assertText('integrity', p.integrity, 1024);
    if (!isObject(p.policy)) throw new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', 'policy must be an object');
    await this.#query(
      'write a policy',
      `INSERT INTO ${this.#s}.policies (name, version, integrity, policy, created_at) VALUES ($1, $2, $3, $4::json, $5)
       ON CONFLICT (name, version) DO UPDATE SET integrity = EXCLUDED.integrity, policy = EXCLUDED.policy, created_at = EXCLUDED.created_at`,
      [p.name, p.version, p.integrity, JSON.stringify(p.policy), new Date()],
    );
  }

  #decisionFrom(where: string, text: unknown): DecisionRecord {
    const record = parseJson(where, text);
    if (!isObject(record) || typeof record.name !== 'string' || typeof record.state !== 'string') throw corrupt(where, 'not a decision record');
    return record as unknown as DecisionRecord;
  }

  async getDecision(p: { name: string; version: string }): Promise<DecisionRecord | null> {
    assertPackageName(p.name);
    assertVersion(p.version);
    const rows = await this.#query<{ record: string }>('read a decision', `SELECT record::text AS record FROM ${this.#s}.decisions WHERE name = $1 AND version = $2`, [p.name, p.version]);
    return rows[0] ? this.#decisionFrom(`decisions:${p.name}@${p.version}`, rows[0].record) : null;
  }

  async listDecisions(p: { name: string }): Promise<DecisionRecord[]> {
    assertPackageName(p.name);
    const rows = await this.#query<{ version: string; record: string }>('list decisions', `SELECT version, record::text AS record FROM ${this.#s}.decisions WHERE name = $1`, [p.name]);
    return rows.map((r) => this.#decisionFrom(`decisions:${p.name}@${r.version}`, r.record));
  }

  async listByState(p: { state: VersionState; limit?: number }): Promise<DecisionRecord[]> {
    if (!VERSION_STATES.includes(p.state)) throw new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', `unknown state ${JSON.stringify(p.state)}`);
    assertLimit(p.limit);
    const rows = await this.#query<{ name: string; version: string; record: string }>(
      'list decisions',
      `SELECT name, version, record::text AS record FROM ${this.#s}.decisions WHERE state = $1 ORDER BY updated_at DESC, audit_id DESC LIMIT $2`,
      [p.state, p.limit ?? null],
    );
    return rows.map((r) => this.#decisionFrom(`decisions:${r.name}@${r.version}`, r.record));
  }

  async setDecision(p: { record: Omit<DecisionRecord, 'createdAt' | 'updatedAt'>; at?: Date }): Promise<DecisionRecord> {
    const input = validateDecisionInput(p.record);
    const at = p.at ?? new Date();
    const result = await this.#tx('write a decision', async (client) => {
      // Serialises writers of one (name, version) across instances, including the very first insert
      // (FOR UPDATE cannot lock a row that does not exist yet).
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`capgate-decision:${this.schema}`, `${input.name}@${input.version}`]);
      const rows = await client.query<{ record: string }>(`SELECT record::text AS record FROM ${this.#s}.decisions WHERE name = $1 AND version = $2`, [input.name, input.version]);
      const existing = rows.rows[0] ? this.#decisionFrom(`decisions:${input.name}@${input.version}`, rows.rows[0].record) : null;
      if (existing) {
        const { createdAt: _c, updatedAt: _u, ...rest } = existing;
        if (isDeepStrictEqual(rest, input)) return { record: existing, changed: false }; // idempotent
      }
      const record: DecisionRecord = { ...input, createdAt: existing?.createdAt ?? at.toISOString(), updatedAt: at.toISOString() };
      const details = { automatic: record.automatic, mode: record.mode, baseline: record.baseline, gained: record.diff.gained, integrity: record.integrity, rulesVersion: record.rulesVersion };
      const audit = await client.query<{ id: string }>(
        `INSERT INTO ${this.#s}.audit_log (at, name, version, action, by_user, reason, details) VALUES ($1, $2, $3, $4, $5, $6, $7::json) RETURNING id`,
        [at, record.name, record.version, record.state, record.by, record.reason, JSON.stringify(details)],
      );
      await client.query(
        `INSERT INTO ${this.#s}.decisions (name, version, state, record, updated_at, audit_id) VALUES ($1, $2, $3, $4::json, $5, $6)
         ON CONFLICT (name, version) DO UPDATE SET state = EXCLUDED.state, record = EXCLUDED.record, updated_at = EXCLUDED.updated_at, audit_id = EXCLUDED.audit_id`,
        [record.name, record.version, record.state, JSON.stringify(record), at, audit.rows[0]?.id],
      );
      // Delivered to every listening instance when (and only if) the transaction commits.
      await client.query('SELECT pg_notify($1, $2)', [this.#channel, JSON.stringify({ name: record.name, version: record.version, from: this.#instance })]);
      return { record, changed: true };
    });
    if (result.changed) this.#emit(result.record.name, result.record.version);
    return result.record;
  }

  // ---------------------------------------------------------------- audit log

  async appendAudit(p: { entry: Omit<AuditEntry, 'id' | 'at'>; at?: Date }): Promise<AuditEntry> {
    const entry = validateAuditEntry(p.entry);
    const at = p.at ?? new Date();
    const rows = await this.#query<{ id: string }>(
      'append to the audit log',
      `INSERT INTO ${this.#s}.audit_log (at, name, version, action, by_user, reason, details) VALUES ($1, $2, $3, $4, $5, $6, $7::json) RETURNING id`,
      [at, entry.name, entry.version, entry.action, entry.by, entry.reason, entry.details === undefined ? null : JSON.stringify(entry.details)],
    );
    return { id: Number(rows[0]?.id), at: at.toISOString(), ...entry };
  }

  async listAudit(p: { name?: string; limit?: number }): Promise<AuditEntry[]> {
    if (p.name !== undefined) assertPackageName(p.name);
    assertLimit(p.limit);
    const rows = await this.#query<{ id: string; at: Date; name: string; version: string; action: string; by_user: string; reason: string; details: string | null }>(
      'read the audit log',
      `SELECT id, at, name, version, action, by_user, reason, details::text AS details FROM ${this.#s}.audit_log
       WHERE ($1::text IS NULL OR name = $1) ORDER BY id DESC LIMIT $2`,
      [p.name ?? null, p.limit ?? null],
    );
    return rows.map((r) => {
      const base = { id: Number(r.id), at: iso(r.at), name: r.name, version: r.version, action: r.action, by: r.by_user, reason: r.reason };
      return r.details === null ? base : { ...base, details: parseJson(`audit_log:${r.id}`, r.details) };
    });
  }

  // ---------------------------------------------------------------- scoped approvals

  async addScopedApproval(p: { approval: Omit<ScopedApproval, 'id' | 'createdAt'>; at?: Date }): Promise<ScopedApproval> {
    const a = validateApproval(p.approval);
    const approval: ScopedApproval = { id: randomUUID(), ...a, createdAt: (p.at ?? new Date()).toISOString() };
    await this.#query(
      'write a scoped approval',
      `INSERT INTO ${this.#s}.scoped_approvals (id, name, range, capability, expires_at, by_user, reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [approval.id, approval.name, approval.range, approval.capability, approval.expiresAt, approval.by, approval.reason, approval.createdAt],
    );
    return approval;
  }

  async listScopedApprovals(p: { name: string }): Promise<ScopedApproval[]> {
    assertPackageName(p.name);
    const rows = await this.#query<{ id: string; range: string; capability: string; expires_at: Date | null; by_user: string; reason: string; created_at: Date }>(
      'list scoped approvals',
      `SELECT id, range, capability, expires_at, by_user, reason, created_at FROM ${this.#s}.scoped_approvals WHERE name = $1 ORDER BY created_at, id`,
      [p.name],
    );
    return rows.map((r) => ({
      id: r.id,
      name: p.name,
      range: r.range,
      capability: r.capability as ScopedApproval['capability'],
      expiresAt: r.expires_at === null ? null : iso(r.expires_at),
      by: r.by_user,
      reason: r.reason,
      createdAt: iso(r.created_at),
    }));
  }

  // ---------------------------------------------------------------- alert outbox

  async enqueueEvent(p: { event: AlertEvent; targets: readonly string[] }): Promise<void> {
    const event = validateEvent(p.event);
    const targets = [...new Set(p.targets)];
    for (const target of targets) assertOutboxKeys({ target });
    await this.#tx('enqueue an alert', async (client) => {
      const inserted = await client.query(
        `INSERT INTO ${this.#s}.outbox_events (id, event, created_at) VALUES ($1, $2::json, $3) ON CONFLICT (id) DO NOTHING RETURNING id`,
        [event.id, JSON.stringify(event), event.createdAt],
      );
      if (inserted.rowCount === 0) return; // same event id: no-op
      for (const target of targets) {
        await client.query(
          `INSERT INTO ${this.#s}.outbox_deliveries (event_id, target, next_attempt_at) VALUES ($1, $2, LEAST($3::timestamptz, clock_timestamp()))`,
          [event.id, target, event.createdAt],
        );
      }
    });
  }

  async claimDeliveries(p: { owner: string; limit: number; leaseMs: number; now?: Date }): Promise<OutboxDelivery[]> {
    assertClaim(p);
    // SKIP LOCKED: a row another instance is claiming right now is left to it, never waited for or
    // claimed twice; the lease column keeps it claimed after this transaction ends.
    const rows = await this.#query<{ event: string; target: string; attempts: number; next_attempt_at: Date; last_error: string | null; event_created: Date }>(
      'claim alert deliveries',
      `WITH now AS (SELECT COALESCE($1::timestamptz, clock_timestamp()) AS t),
       due AS (
         SELECT d.event_id, d.target FROM ${this.#s}.outbox_deliveries d JOIN ${this.#s}.outbox_events e ON e.id = d.event_id, now
         WHERE d.delivered_at IS NULL AND d.next_attempt_at <= now.t AND (d.claim_until IS NULL OR d.claim_until <= now.t)
         ORDER BY d.next_attempt_at, e.created_at, d.event_id, d.target
         LIMIT $2
         FOR UPDATE OF d SKIP LOCKED
       )
       UPDATE ${this.#s}.outbox_deliveries d
          SET claim_owner = $3, claim_until = (SELECT t FROM now) + $4::double precision * interval '1 millisecond'
         FROM due, ${this.#s}.outbox_events e
        WHERE d.event_id = due.event_id AND d.target = due.target AND e.id = d.event_id
       RETURNING e.event::text AS event, d.target, d.attempts, d.next_attempt_at, d.last_error, e.created_at AS event_created`,
      [p.now ?? null, p.limit, p.owner, p.leaseMs],
    );
    const claimed = rows.map((r) => ({
      sort: [iso(r.next_attempt_at), iso(r.event_created)],
      delivery: {
        event: parseJson(`outbox_events:${r.target}`, r.event) as AlertEvent,
        target: r.target,
        attempts: r.attempts,
        nextAttemptAt: iso(r.next_attempt_at),
        lastError: r.last_error,
      },
    }));
    claimed.sort((a, b) => {
      for (let i = 0; i < 2; i++) if (a.sort[i] !== b.sort[i]) return (a.sort[i] ?? '') < (b.sort[i] ?? '') ? -1 : 1;
      const ka = `${a.delivery.event.id}\u0000${a.delivery.target}`;
      const kb = `${b.delivery.event.id}\u0000${b.delivery.target}`;
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    });
    return claimed.map((c) => c.delivery);
  }

  async completeDelivery(p: { eventId: string; target: string; owner: string }): Promise<void> {
    assertOutboxKeys(p);
    await this.#query(
      'complete an alert delivery',
      `UPDATE ${this.#s}.outbox_deliveries SET delivered_at = clock_timestamp(), claim_owner = NULL, claim_until = NULL
        WHERE event_id = $1 AND target = $2 AND claim_owner = $3 AND delivered_at IS NULL`,
      [p.eventId, p.target, p.owner],
    );
  }

  async failDelivery(p: { eventId: string; target: string; owner: string; error: string; nextAttemptAt: Date }): Promise<void> {
    assertOutboxKeys(p);
    if (!(p.nextAttemptAt instanceof Date) || Number.isNaN(p.nextAttemptAt.getTime())) throw new PolicyStoreError('CAPGATE_POLICY_STORE_INVALID_KEY', 'nextAttemptAt must be a valid Date');
    // Text columns refuse NUL; an error message from a receiver may carry anything.
    const error = String(p.error).replace(/\u0000/g, '').slice(0, 2000);
    await this.#query(
      'record a failed alert delivery',
      `UPDATE ${this.#s}.outbox_deliveries SET attempts = attempts + 1, last_error = $4, next_attempt_at = $5, claim_owner = NULL, claim_until = NULL
        WHERE event_id = $1 AND target = $2 AND claim_owner = $3 AND delivered_at IS NULL`,
      [p.eventId, p.target, p.owner, error, p.nextAttemptAt],
    );
  }

  async outboxDepth(): Promise<number> {
    const rows = await this.#query<{ n: string }>('count the alert outbox', `SELECT count(*) AS n FROM ${this.#s}.outbox_deliveries WHERE delivered_at IS NULL`);
    return Number(rows[0]?.n ?? 0);
  }

  // ---------------------------------------------------------------- leases and change listeners

  async acquireLease(p: { key: string; owner: string; ttlMs: number; now?: Date }): Promise<boolean> {
    assertLease(p);
    const rows = await this.#query(
      'take an analysis lease',
      `WITH now AS (SELECT COALESCE($3::timestamptz, clock_timestamp()) AS t)
       INSERT INTO ${this.#s}.leases AS l (key, owner, until) SELECT $1, $2, now.t + $4::double precision * interval '1 millisecond' FROM now
       ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until
        WHERE l.owner = EXCLUDED.owner OR l.until <= (SELECT t FROM now)
       RETURNING l.owner`,
      [p.key, p.owner, p.now ?? null, p.ttlMs],
    );
    return rows.length === 1;
  }

  async releaseLease(p: { key: string; owner: string }): Promise<void> {
    assertLease(p);
    await this.#query('release an analysis lease', `DELETE FROM ${this.#s}.leases WHERE key = $1 AND owner = $2`, [p.key, p.owner]);
  }

  /**
   * Calls `listener` for decisions changed by this instance (at once) and by every other instance on
   * the same schema (LISTEN/NOTIFY, on commit). The first subscription opens one dedicated connection;
   * if it drops, it is reopened with backoff (changes made meanwhile are not reported: keep a TTL on
   * caches as a safety net).
   */
  onDecisionChanged(listener: (name: string, version: string) => void): () => void {
    this.#listeners.add(listener);
    void this.#startListening();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Resolves once this instance is LISTENing (tests and callers that must not miss a change). */
  async listening(): Promise<void> {
    await this.#startListening();
  }

  #startListening(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#listenClient) return Promise.resolve();
    if (!this.#listenStarting) {
      this.#listenStarting = this.#connectListener().finally(() => {
        this.#listenStarting = null;
      });
    }
    return this.#listenStarting;
  }

  async #connectListener(): Promise<void> {
    const client = new Client({ connectionString: this.#url });
    client.on('error', (err) => {
      this.#logger?.warn({ err: errText(err) }, 'policy store: LISTEN connection failed; reconnecting');
      if (this.#listenClient === client) this.#listenClient = null;
      void client.end().catch(() => undefined);
      this.#scheduleReconnect();
    });
    client.on('notification', (msg) => {
      if (msg.channel !== this.#channel || !msg.payload) return;
      try {
        const body = JSON.parse(msg.payload) as { name?: unknown; version?: unknown; from?: unknown };
        if (body.from !== this.#instance && typeof body.name === 'string' && typeof body.version === 'string') this.#emit(body.name, body.version);
      } catch {
        this.#logger?.warn({ channel: msg.channel }, 'policy store: ignoring a malformed notification');
      }
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${this.#channel}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      this.#logger?.warn({ err: errText(err) }, 'policy store: cannot LISTEN for decision changes; retrying');
      this.#scheduleReconnect();
      return;
    }
    if (this.#closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.#listenClient = client;
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#reconnectTimer || this.#listeners.size === 0) return;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      void this.#startListening();
    }, 1_000);
    this.#reconnectTimer.unref();
  }

  #emit(name: string, version: string): void {
    notifyDecisionListeners(this.#listeners, name, version, this.#logger);
  }
}
