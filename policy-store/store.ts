// Owns the PolicyStore contract: what the gate, the review API and the alert outbox persist.
// Implementations: file-store.ts (embedded default) and postgres-store.ts (several instances).
import type { CapabilityId, Decision, PackagePolicy, PolicyDiff } from '../analyzer/types';

/** Where a version stands. `allowed`/`flagged`/`held` are automatic; `approved`/`denied` are human. */
export type VersionState = 'allowed' | 'flagged' | 'held' | 'approved' | 'denied';

/** A version's analysed policy, kept so it can serve as a baseline. Keyed by (name, version). */
export interface StoredPolicy {
  readonly name: string;
  readonly version: string;
  /** The dist.integrity (sha512 SRI) of the exact bytes analysed. */
  readonly integrity: string;
  readonly policy: PackagePolicy;
  readonly createdAt: string;
}

/** The gate's decision on one version. Keyed by (name, version). */
export interface DecisionRecord {
  readonly name: string;
  readonly version: string;
  readonly integrity: string;
  readonly rulesVersion: string;
  readonly state: VersionState;
  /** What the automatic comparison concluded (kept after a human decision, for the record). */
  readonly automatic: Decision;
  /** Mode in force when the automatic decision was made. */
  readonly mode: 'enforce' | 'monitor';
  readonly baseline: string | null;
  readonly diff: PolicyDiff;
  /** `capgate` for automatic decisions, else the reviewer's user name. */
  readonly by: string;
  readonly reason: string;
  /** ISO-8601 timestamps. */
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface AuditEntry {
  /** Monotonic per store. */
  readonly id: number;
  readonly at: string;
  readonly name: string;
  readonly version: string;
  /** e.g. `allowed`, `flagged`, `held`, `approved`, `denied`, `scoped-approval`. */
  readonly action: string;
  readonly by: string;
  readonly reason: string;
  readonly details?: unknown;
}

/** A reviewed capability allowed for a package across a semver range, optionally until a date. */
export interface ScopedApproval {
  readonly id: string;
  readonly name: string;
  /** semver range, e.g. `^2.0.0` or `*`. */
  readonly range: string;
  readonly capability: CapabilityId;
  /** ISO-8601; null = no expiry. After it, the approval no longer applies. */
  readonly expiresAt: string | null;
  readonly by: string;
  readonly reason: string;
  readonly createdAt: string;
}

export type AlertEventType = 'held' | 'flagged' | 'approved' | 'denied';

/** One capability-change event; `id` is stable so receivers can deduplicate (at-least-once delivery). */
export interface AlertEvent {
  readonly id: string;
  readonly type: AlertEventType;
  readonly createdAt: string;
  readonly name: string;
  readonly version: string;
  /** JSON-able details (gained ids, baseline, evidence summary, reviewer, reason). */
  readonly payload: Readonly<Record<string, unknown>>;
}

/** One event to one webhook target. (eventId, target) is unique. */
export interface OutboxDelivery {
  readonly event: AlertEvent;
  /** The target's configured id (not its URL). */
  readonly target: string;
  readonly attempts: number;
  readonly nextAttemptAt: string;
  readonly lastError: string | null;
}

/** Thrown (with `code`) when the store cannot be reached or its data cannot be read. */
export class PolicyStoreError extends Error {
  readonly code: 'CAPGATE_POLICY_STORE_UNAVAILABLE' | 'CAPGATE_POLICY_STORE_CORRUPT' | 'CAPGATE_POLICY_STORE_INVALID_KEY';
  /** For CAPGATE_POLICY_STORE_CORRUPT: the file (file store) or row (`table:key`) that cannot be read. */
  readonly file?: string;
  constructor(code: PolicyStoreError['code'], message: string, options?: { cause?: unknown; file?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PolicyStoreError';
    this.code = code;
    if (options?.file !== undefined) this.file = options.file;
  }
}

/** Narrow logger (pino-compatible: fields first); stores default to no output. */
export interface StoreLogger {
  warn(fields: Readonly<Record<string, unknown>>, message: string): void;
  debug?(fields: Readonly<Record<string, unknown>>, message: string): void;
}

/**
 * Persistence for the gate. Every method is async and takes a parameter object.
 * Writes are atomic (no torn record after a crash) and idempotent.
 * Names are npm package names (possibly scoped); implementations must reject names and versions
 * that are not valid (code CAPGATE_POLICY_STORE_INVALID_KEY) and never let one escape their storage.
 */
export interface PolicyStore {
  /** Creates folders/tables; safe to call concurrently from several processes. */
  init(): Promise<void>;
  /** Throws PolicyStoreError when unreachable. */
  health(): Promise<void>;

  getPolicy(p: { name: string; version: string }): Promise<StoredPolicy | null>;
  putPolicy(p: { name: string; version: string; integrity: string; policy: PackagePolicy }): Promise<void>;

  getDecision(p: { name: string; version: string }): Promise<DecisionRecord | null>;
  /** Every decided version of one package (any state), unordered. */
  listDecisions(p: { name: string }): Promise<DecisionRecord[]>;
  /** Decisions in one state across packages, newest `updatedAt` first. */
  listByState(p: { state: VersionState; limit?: number }): Promise<DecisionRecord[]>;
  /**
   * Writes a decision and appends the matching audit entry (action = state) in one step.
   * Returns the record as stored (createdAt kept from an earlier record of the same version).
   */
  setDecision(p: {
    record: Omit<DecisionRecord, 'createdAt' | 'updatedAt'>;
    at?: Date;
  }): Promise<DecisionRecord>;

  /** Appends to the audit log (append-only). */
  appendAudit(p: { entry: Omit<AuditEntry, 'id' | 'at'>; at?: Date }): Promise<AuditEntry>;
  /** Newest first. */
  listAudit(p: { name?: string; limit?: number }): Promise<AuditEntry[]>;

  addScopedApproval(p: { approval: Omit<ScopedApproval, 'id' | 'createdAt'>; at?: Date }): Promise<ScopedApproval>;
  /** All scoped approvals of a package, expired ones included (callers filter by `expiresAt`). */
  listScopedApprovals(p: { name: string }): Promise<ScopedApproval[]>;

  /** Durable outbox: one delivery row per (event, target); enqueueing the same event id twice is a no-op. */
  enqueueEvent(p: { event: AlertEvent; targets: readonly string[] }): Promise<void>;
  /**
   * Claims up to `limit` deliveries that are due (`nextAttemptAt <= now`), not delivered and not
   * claimed by someone else within `leaseMs`. A claim expires after `leaseMs` (its holder died).
   */
  claimDeliveries(p: { owner: string; limit: number; leaseMs: number; now?: Date }): Promise<OutboxDelivery[]>;
  /** Marks delivered (never claimed again). Only the current claim owner may complete; anyone else's call is a no-op. */
  completeDelivery(p: { eventId: string; target: string; owner: string }): Promise<void>;
  /** Records a failed attempt and when to retry; releases the claim. A no-op unless `owner` holds the claim. */
  failDelivery(p: { eventId: string; target: string; owner: string; error: string; nextAttemptAt: Date }): Promise<void>;
  /** Undelivered deliveries. */
  outboxDepth(): Promise<number>;

  /**
   * Analysis lease (several instances): true when `owner` now holds `key` (newly, or renewed because
   * it already held it), false while another owner holds an unexpired lease. A lease whose holder
   * died expires after `ttlMs` and can then be taken over. Optional: single-instance stores may omit it.
   */
  acquireLease?(p: { key: string; owner: string; ttlMs: number; now?: Date }): Promise<boolean>;
  /** Releases `key` if `owner` holds it (no-op otherwise). */
  releaseLease?(p: { key: string; owner: string }): Promise<void>;
  /**
   * Calls `listener` after a decision changes, in this process and (where the store can tell, e.g.
   * PostgreSQL LISTEN/NOTIFY) in other instances, so caches can drop the entry. Returns unsubscribe.
   */
  onDecisionChanged?(listener: (name: string, version: string) => void): () => void;

  close(): Promise<void>;
}
