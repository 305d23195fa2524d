import { createLogger } from './log';

describe('createLogger', () => {
  const capture = (level: string | undefined): { lines: string[]; log: ReturnType<typeof createLogger> } => {
    const lines: string[] = [];
    const env: NodeJS.ProcessEnv = level === undefined ? {} : { CAPGATE_LOG_LEVEL: level };
    return { lines, log: createLogger(env, (l) => lines.push(l)) };
  };

  it('defaults to warn', () => {
    const { lines, log } = capture(undefined);
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(lines).toEqual(['capgate: warn: w\n', 'capgate: error: e\n']);
  });

  it('honours debug and silent', () => {
    const d = capture('DEBUG');
    d.log.debug('x');
    expect(d.lines).toEqual(['capgate: debug: x\n']);
    const s = capture('silent');
    s.log.error('x');
    expect(s.lines).toEqual([]);
  });

  it('warns about an unknown level', () => {
    const { lines, log } = capture('loud');
    expect(log.level).toBe('warn');
    expect(lines[0]).toContain('unknown CAPGATE_LOG_LEVEL');
  });
});
