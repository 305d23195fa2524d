// RuleTester-style table runner for analyzer detectors (eslint's valid/invalid tables, LavaMoat's
// fixtures as real functions): each case becomes one jest test.
import { functionBody } from './make-package';
import { scanSource, type Hit } from '../analyzer/scan';
import type { Detector } from '../analyzer/detectors/types';
import type { CapabilityId } from '../analyzer/types';

export type Fixture = string | ((...args: never[]) => unknown);

export interface InvalidCase {
  readonly code: Fixture;
  /** Capabilities that must be reported. */
  readonly capabilities: readonly CapabilityId[];
  /** API keypaths that must be among the evidence. */
  readonly apis?: readonly string[];
  /** Capabilities that must NOT be reported (precision checks). */
  readonly not?: readonly CapabilityId[];
  readonly name?: string;
}

export interface ValidCase {
  readonly code: Fixture;
  readonly name?: string;
}

export interface DetectorTable {
  readonly valid: readonly (Fixture | ValidCase)[];
  readonly invalid: readonly InvalidCase[];
}

export function sourceOf(code: Fixture): string {
  return typeof code === 'string' ? code : functionBody(code);
}

/** Scans a fixture with the given detectors (all detectors when omitted) and returns the hits. */
export function hitsOf(code: Fixture, detectors: readonly Detector[], file = 'index.js'): readonly Hit[] {
  return scanSource(file, sourceOf(code), detectors).hits;
}

function label(code: Fixture, name: string | undefined): string {
  if (name !== undefined) return name;
  return sourceOf(code).replace(/\s+/g, ' ').trim().slice(0, 90);
}

/**
 * Runs a table: `valid` fixtures must report none of the detector's capabilities; each `invalid`
 * fixture must report every listed capability (and api), and none of `not`.
 */
export function runDetector(detector: Detector, table: DetectorTable, detectors: readonly Detector[] = [detector]): void {
  const own = new Set<CapabilityId>(detector.meta.capabilities);
  describe(detector.meta.id, () => {
    describe('valid', () => {
      for (const v of table.valid) {
        const c = typeof v === 'object' ? v : { code: v };
        it(label(c.code, c.name), () => {
          const hits = hitsOf(c.code, detectors).filter((h) => own.has(h.capability));
          expect(hits.map((h) => `${h.capability} ${h.api}`)).toEqual([]);
        });
      }
    });
    describe('invalid', () => {
      for (const c of table.invalid) {
        it(label(c.code, c.name), () => {
          const hits = hitsOf(c.code, detectors);
          const caps = new Set(hits.map((h) => h.capability));
          const apis = new Set(hits.map((h) => h.api));
          for (const cap of c.capabilities) expect([...caps]).toContain(cap);
          for (const api of c.apis ?? []) expect([...apis]).toContain(api);
          for (const cap of c.not ?? []) expect([...caps]).not.toContain(cap);
          for (const h of hits) {
            expect(h.line).toBeGreaterThan(0);
            expect(h.snippet.length).toBeLessThanOrEqual(120);
            expect(h.snippet).not.toMatch(/\n/);
          }
        });
      }
    });
  });
}
