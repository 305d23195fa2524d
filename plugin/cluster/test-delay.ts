// Owns the test-only analysis delay: with NODE_ENV=test and CAPGATE_TEST_ANALYSIS_DELAY_MS=<ms>,
// every analysis waits that long before it starts, so an e2e test can kill an instance in the
// middle of an analysis deterministically (e2e/cluster.test.ts). Ignored unless NODE_ENV is
// exactly `test`, and capped at 10 minutes, so a stray variable in production does nothing.
import type { TarballAnalyzer } from '../gate';

export const TEST_DELAY_ENV = 'CAPGATE_TEST_ANALYSIS_DELAY_MS';
const MAX_DELAY_MS = 600_000;

export function delayedForTests(analyzer: TarballAnalyzer, env: NodeJS.ProcessEnv, logger?: { warn(obj: object, msg: string): void }): TarballAnalyzer {
  const raw = env[TEST_DELAY_ENV];
  if (raw === undefined || raw === '') return analyzer;
  if (env['NODE_ENV'] !== 'test') {
    logger?.warn({ env: TEST_DELAY_ENV }, 'capgate: ignoring @{env}: it applies under NODE_ENV=test only');
    return analyzer;
  }
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DELAY_MS) {
    logger?.warn({ env: TEST_DELAY_ENV, value: raw.slice(0, 40) }, 'capgate: ignoring @{env}=@{value}: expected milliseconds (0 to 600000)');
    return analyzer;
  }
  logger?.warn({ env: TEST_DELAY_ENV, ms }, 'capgate: TEST MODE: every analysis is delayed by @{ms} ms (@{env})');
  return {
    async analyze(bytes: Uint8Array, opts?: Parameters<TarballAnalyzer['analyze']>[1]) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return analyzer.analyze(bytes, opts);
    },
    foreground: () => analyzer.foreground?.() ?? ((): void => undefined),
    poke: () => analyzer.poke?.(),
  };
}
