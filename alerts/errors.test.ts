import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALERT_ERROR_CODES } from './errors';

// Every code the module can raise is documented for operators (fastify test/internals/errors.test.js).
describe('alert error catalogue', () => {
  it('documents every code in docs/alerts.md', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'alerts.md'), 'utf8');
    for (const code of ALERT_ERROR_CODES) expect(doc).toContain(`\`${code}\``);
  });
});
