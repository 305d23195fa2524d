// Owns `filter_metadata` (Verdaccio filter plugin, config key `capgate` under `filters`): hides held
// and denied versions from packuments and repoints dist-tags (hideVersions), so resolvers (npm,
// pnpm, yarn) fall back to the last allowed version, and starts the background analysis of the
// newest undecided versions. A package no decision touches gets the very object Verdaccio passed
// in. A filtered packument carries the one it was made from, for the gate (bypass.ts).
import { LRUCache } from 'lru-cache';
import semver from 'semver';
import type { GateLogger } from '../gate';
import { expectedDigest } from '../integrity';
import { isGatePackumentRead, markFiltered } from './bypass';
import type { DecisionIndex, IndexedDecision, PackageDecisions } from './decision-index';
import { hideVersions } from './packument-filter';
import type { PackumentLike } from './packument-filter';

export interface MetadataFilterOptions {
  readonly index: DecisionIndex;
  /** `monitor` hides nothing (it only records, through background analysis). */
  readonly mode: 'enforce' | 'monitor';
  /** Automatic decisions made by other rules are not current (the gate decides those again). */
  readonly rulesVersion: string;
  /** Undecided versions analysed per packument, newest first; 0 = no background analysis. */
  readonly maxBackgroundVersions: number;
  /** Called with the newest undecided versions (newest first) of a packument; must not throw. */
  readonly onUndecided?: (name: string, packument: PackumentLike, versions: readonly string[]) => void;
  readonly logger: GateLogger;
}

const REFUSING = new Set(['held', 'denied']);

export class MetadataFilter {
  private readonly opts: MetadataFilterOptions;
  /** name -> what the last background scan saw: the same decisions and version count need no new scan. */
  private readonly scanned: LRUCache<string, { decisions: PackageDecisions; count: number }>;

  constructor(opts: MetadataFilterOptions) {
    this.opts = opts;
    this.scanned = new LRUCache({ max: 10_000 });
  }

  /** Verdaccio's filter hook. Never rejects for a store failure: the manifest passes unchanged (the tarball gate still decides). */
  async filterMetadata<T extends PackumentLike>(manifest: T): Promise<T> {
    const name = manifest.name;
    if (typeof name !== 'string' || typeof manifest.versions !== 'object' || manifest.versions === null) return manifest;
    let decisions: PackageDecisions;
    try {
      decisions = await this.opts.index.forPackage(name);
    } catch (e) {
      this.opts.logger.warn({ pkg: name, err: e instanceof Error ? e.message : String(e) }, 'capgate: packument of @{pkg} served unfiltered: decisions unavailable (@{err})');
      return manifest;
    }
    if (this.opts.maxBackgroundVersions > 0 && this.opts.onUndecided !== undefined && !isGatePackumentRead(name) && this.shouldScan(name, manifest, decisions)) {
      const undecided = newestUndecided(manifest, decisions, this.opts.rulesVersion, this.opts.maxBackgroundVersions);
      if (undecided.length > 0) this.opts.onUndecided(name, manifest, undecided);
    }
    return this.hide(name, manifest, decisions);
  }

  private shouldScan(name: string, manifest: PackumentLike, decisions: PackageDecisions): boolean {
    const count = Object.keys(manifest.versions ?? {}).length;
    const last = this.scanned.get(name);
    if (last !== undefined && last.decisions === decisions && last.count === count) return false;
    this.scanned.set(name, { decisions, count });
    return true;
  }

  /** The packument as clients see it, without starting background analysis (dependency resolution). */
  async visible<T extends PackumentLike>(manifest: T): Promise<T> {
    const name = manifest.name;
    if (typeof name !== 'string') return manifest;
    return this.hide(name, manifest, await this.opts.index.forPackage(name));
  }

  private hide<T extends PackumentLike>(name: string, manifest: T, decisions: PackageDecisions): T {
    if (decisions.size === 0) return manifest;
    const hide = refusedVersions(manifest, decisions, this.opts.rulesVersion);
    if (hide.size === 0) return manifest;
    if (this.opts.mode === 'monitor') {
      this.opts.logger.debug({ pkg: name, versions: [...hide].join(',') }, 'capgate: monitor mode: @{pkg} would hide @{versions}');
      return manifest;
    }
    const result = hideVersions(manifest, hide);
    this.opts.logger.debug({ pkg: name, versions: result.hidden.join(',') }, 'capgate: packument of @{pkg} hides @{versions}');
    // The gate reads packuments through Verdaccio too and must still see every version (bypass.ts).
    return markFiltered(result.packument, manifest);
  }
}

/** Versions of `manifest` whose current decision (same bytes; automatic ones under these rules) is held or denied. */
export function refusedVersions(manifest: PackumentLike, decisions: PackageDecisions, rulesVersion: string): Set<string> {
  const hide = new Set<string>();
  const versions = manifest.versions ?? {};
  for (const [version, d] of decisions) {
    if (!REFUSING.has(d.state)) continue;
    if (!Object.prototype.hasOwnProperty.call(versions, version)) continue;
    if (isCurrent(d, versions[version], rulesVersion)) hide.add(version);
  }
  return hide;
}

/**
 * Up to `max` versions newer than the newest decided one, newest first, that have no current
 * decision: releases, plus prereleases a dist-tag points to.
 */
export function newestUndecided(manifest: PackumentLike, decisions: PackageDecisions, rulesVersion: string, max: number): string[] {
  const versions = manifest.versions ?? {};
  const tagged = new Set(Object.values(manifest['dist-tags'] ?? {}).filter((v): v is string => typeof v === 'string'));
  let newestDecided: string | null = null;
  for (const [version, d] of decisions) {
    if (!Object.prototype.hasOwnProperty.call(versions, version) || semver.valid(version) === null) continue;
    if (isCurrent(d, versions[version], rulesVersion) && (newestDecided === null || semver.gt(version, newestDecided))) newestDecided = version;
  }
  const out: string[] = [];
  for (const version of Object.keys(versions)) {
    if (semver.valid(version) === null) continue;
    if (semver.prerelease(version) !== null && !tagged.has(version)) continue;
    if (newestDecided !== null && !semver.gt(version, newestDecided)) continue;
    const d = decisions.get(version);
    if (d !== undefined && isCurrent(d, versions[version], rulesVersion)) continue;
    // Keep the `max` newest (a packument may list thousands of versions: no full sort).
    if (out.length < max) {
      out.push(version);
      out.sort(semver.rcompare);
    } else {
      const last = out[out.length - 1];
      if (last !== undefined && semver.gt(version, last)) {
        out[out.length - 1] = version;
        out.sort(semver.rcompare);
      }
    }
  }
  return out;
}

/** As the gate's `applies`: human decisions hold for their bytes; automatic ones also need these rules. */
function isCurrent(d: IndexedDecision, manifest: unknown, rulesVersion: string): boolean {
  if (d.state !== 'approved' && d.state !== 'denied' && d.rulesVersion !== rulesVersion) return false;
  return integrityOf(manifest) === d.integrity;
}

function integrityOf(manifest: unknown): string | null {
  if (typeof manifest !== 'object' || manifest === null) return null;
  const dist = (manifest as { dist?: unknown }).dist;
  if (typeof dist !== 'object' || dist === null) return null;
  const d = dist as { integrity?: unknown; shasum?: unknown };
  const digest = expectedDigest(typeof d.integrity === 'string' ? d.integrity : null, typeof d.shasum === 'string' ? d.shasum : null);
  return digest.ok ? digest.expected.sri : null;
}
