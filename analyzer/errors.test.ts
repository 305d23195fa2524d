import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ANALYZER_ERROR_CODES, ANALYZER_ERROR_DESCRIPTIONS, AnalyzerError, isAnalyzerError, reviveAnalyzerError } from './errors';

// dist/analyzer/errors.test.js -> repository root is two levels up.
const docs = readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

describe('analyzer error catalogue', () => {
  it.each([...ANALYZER_ERROR_CODES])('%s is documented in docs/errors.md and described', (code) => {
    expect(docs).toContain('`' + code + '`');
    expect(ANALYZER_ERROR_DESCRIPTIONS[code].length).toBeGreaterThan(10);
  });

  it('every code in the docs table exists in the catalogue', () => {
    const section = docs.slice(docs.indexOf('## analyzer'), docs.indexOf('## cli'));
    const documented = [...section.matchAll(/^\| `(CAPGATE_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...ANALYZER_ERROR_CODES].sort());
  });

  it('keeps code, name and structured fields, and survives a structured clone', () => {
    const e = new AnalyzerError('CAPGATE_ARCHIVE_LIMIT', 'too big', { limit: 'maxEntries', expected: 10, found: 11 });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AnalyzerError');
    expect(e.code).toBe('CAPGATE_ARCHIVE_LIMIT');
    const cloned: unknown = structuredClone(e.toJSON());
    expect(isAnalyzerError(cloned)).toBe(true);
    const revived = reviveAnalyzerError(cloned);
    expect(revived).toBeInstanceOf(AnalyzerError);
    expect(revived?.limit).toBe('maxEntries');
    expect(revived?.found).toBe(11);
    expect(isAnalyzerError(new Error('x'))).toBe(false);
    expect(isAnalyzerError({ name: 'AnalyzerError', code: 'NOPE', message: 'x' })).toBe(false);
    expect(reviveAnalyzerError('x')).toBeNull();
  });
});
