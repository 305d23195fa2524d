import * as fs from 'node:fs';
import * as path from 'node:path';
import { GATE_ERROR_CODES, GATE_ERROR_DESCRIPTIONS } from './errors';
import { HTTP_STATUS_BY_CODE } from './http-errors';

describe('error catalogue', () => {
  it('gives every code a status and a description', () => {
    for (const code of GATE_ERROR_CODES) {
      expect(HTTP_STATUS_BY_CODE[code]).toBeGreaterThanOrEqual(400);
      expect(GATE_ERROR_DESCRIPTIONS[code].length).toBeGreaterThan(10);
    }
    expect(Object.keys(HTTP_STATUS_BY_CODE).sort()).toEqual([...GATE_ERROR_CODES].sort());
  });

  it('refuses held, denied and content failures with 403 so npm prints the reason', () => {
    for (const code of ['CAPGATE_HELD', 'CAPGATE_DENIED', 'CAPGATE_INTEGRITY_MISMATCH', 'CAPGATE_ARCHIVE_CORRUPT'] as const) {
      expect(HTTP_STATUS_BY_CODE[code]).toBe(403);
    }
    expect(HTTP_STATUS_BY_CODE.CAPGATE_STORE_UNAVAILABLE).toBe(503);
  });

  it('documents every code in plugin/README.md', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', '..', 'plugin', 'README.md'), 'utf8');
    for (const code of GATE_ERROR_CODES) expect(doc).toContain(code);
  });
});
