// Owns the metadata filter's memory of decisions: per package, the decision of each version
// (state, integrity, rules version), loaded once from the policy store and dropped on every
// decision change (the gate's own decisions, reviews, other instances' changes), so a packument is
// filtered against current decisions without a store round trip per request.
import { LRUCache } from 'lru-cache';
import type { DecisionRecord, PolicyStore, VersionState } from '../../policy-store/store';

/** What the filter needs of one decision. */
export interface IndexedDecision {
  readonly state: VersionState;
  readonly integrity: string;
  readonly rulesVersion: string;
}

/** version -> decision, for one package. */
export type PackageDecisions = ReadonlyMap<string, IndexedDecision>;

const EMPTY: PackageDecisions = new Map();

export class DecisionIndex {
  private readonly entries: LRUCache<string, PackageDecisions>;
  private readonly loading = new Map<string, Promise<PackageDecisions>>();

  constructor(private readonly store: Pick<PolicyStore, 'listDecisions'>, max: number) {
    this.entries = new LRUCache<string, PackageDecisions>({ max });
  }

  /** The decisions of `name`'s versions, from memory when known. Rejects when the store fails. */
  forPackage(name: string): Promise<PackageDecisions> {
    const known = this.entries.get(name);
    if (known !== undefined) return Promise.resolve(known);
    const inFlight = this.loading.get(name);
    if (inFlight !== undefined) return inFlight;
    const load: Promise<PackageDecisions> = this.store.listDecisions({ name }).then(
      (records) => {
        const map = toMap(records);
        // Only the load still current after any invalidation may be remembered.
        if (this.loading.get(name) === load) {
          this.loading.delete(name);
          this.entries.set(name, map);
        }
        return map;
      },
      (e: unknown) => {
        if (this.loading.get(name) === load) this.loading.delete(name);
        throw e;
      },
    );
    this.loading.set(name, load);
    return load;
  }

  /** The decisions of `name` if they are in memory (no IO), else undefined. */
  peek(name: string): PackageDecisions | undefined {
    return this.entries.get(name);
  }

  /** Forgets `name` (a decision of one of its versions changed); a load in flight is not remembered. */
  invalidate(name: string): void {
    this.entries.delete(name);
    this.loading.delete(name);
  }
}

function toMap(records: readonly DecisionRecord[]): PackageDecisions {
  if (records.length === 0) return EMPTY;
  const map = new Map<string, IndexedDecision>();
  for (const r of records) map.set(r.version, { state: r.state, integrity: r.integrity, rulesVersion: r.rulesVersion });
  return map;
}
