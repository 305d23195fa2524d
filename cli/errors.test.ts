import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CLI_ERROR_CODES, CliError, isCliError } from './errors';

const docs = readFileSync(path.join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');

describe('CLI error catalogue', () => {
  it.each([...CLI_ERROR_CODES])('%s is documented in the cli section of docs/errors.md', (code) => {
    expect(docs.slice(docs.indexOf('## cli'))).toContain('| `' + code + '` |');
  });

  it('carries a stable code', () => {
    const e = new CliError('CAPGATE_INPUT_UNREADABLE', 'x', { file: 'a' });
    expect(isCliError(e)).toBe(true);
    expect(e.code).toBe('CAPGATE_INPUT_UNREADABLE');
    expect(e.file).toBe('a');
    expect(isCliError(new Error('x'))).toBe(false);
  });
});
