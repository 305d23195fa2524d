// Owns cache invalidation across instances (DESIGN.md "Scale": caches are invalidated on review
// decisions): one subscription to the store's decision-change notifications (PostgreSQL
// LISTEN/NOTIFY, or the file store's audit-log watch) that drops the entry from every cache of this
// process and wakes lease waiters. Cached decisions also expire (cluster.cacheTtlMs) in case a
// notification is missed while the listening connection is down.
import type { PolicyStore } from '../../policy-store/store';

/** Something that caches per version and can forget one (Gate.invalidate, a packument filter cache...). */
export type Invalidator = (name: string, version: string) => void;

export interface InvalidationLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/**
 * Subscribes `targets` to the store's decision changes. Returns the unsubscribe function (a no-op
 * when the store cannot report changes: then the cache TTL alone bounds staleness).
 */
export function subscribeInvalidation(p: {
  readonly store: Pick<PolicyStore, 'onDecisionChanged'>;
  readonly targets: readonly Invalidator[];
  readonly onInvalidated?: () => void;
  readonly logger?: InvalidationLogger;
}): () => void {
  if (p.store.onDecisionChanged === undefined) {
    p.logger?.debug({}, 'capgate: the policy store reports no decision changes; cached decisions expire by TTL only');
    return () => undefined;
  }
  return p.store.onDecisionChanged((name, version) => {
    for (const target of p.targets) {
      try {
        target(name, version);
      } catch (e) {
        // One broken cache must not keep the others stale.
        p.logger?.warn({ pkg: name, version, err: e instanceof Error ? e.message : String(e) }, 'capgate: cache invalidation of @{pkg}@@{version} failed: @{err}');
      }
    }
    p.onInvalidated?.();
  });
}
