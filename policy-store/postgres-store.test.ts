// Tests postgres-store.ts against a real PostgreSQL (DATABASE_URL): the shared contract suite, then
// what several instances on one database must get right. Each store gets its own schema, dropped after.
import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { loadMigrations } from './migrations';
import { PostgresStore } from './postgres-store';
import { PolicyStoreError } from './store';
import { describeStoreContract, sampleDecision } from './store.contract';

const url = process.env.DATABASE_URL;

function schemaName(): string {
  return `capgate_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

async function codeOf(promise: Promise<unknown>): Promise<{ code: string; file: string | undefined }> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof PolicyStoreError) return { code: err.code, file: err.file };
    throw err;
  }
  return { code: 'none', file: undefined };
}

if (!url) {
  console.warn('\n*** postgres-store.test: DATABASE_URL is not set, so the PostgreSQL store was NOT tested. ***\n' + '*** Set it, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test ***\n');
  test.skip('PostgreSQL store: SKIPPED because DATABASE_URL is not set', () => undefined);
} else {
  const dbUrl = url;
  const admin = new Pool({ connectionString: dbUrl, max: 2 });
  const dropSchema = async (schema: string): Promise<void> => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  };
  afterAll(async () => {
    await admin.end();
  });

  describeStoreContract('postgres', async () => {
    const schema = schemaName();
    return { store: new PostgresStore({ url: dbUrl, schema, max: 4 }), cleanup: () => dropSchema(schema) };
  });

  describe('PostgresStore with several instances', () => {
    let schema: string;
    const open: PostgresStore[] = [];
    const instance = (): PostgresStore => {
      const s = new PostgresStore({ url: dbUrl, schema, max: 4 });
      open.push(s);
      return s;
    };

    beforeEach(() => {
      schema = schemaName();
    });
    afterEach(async () => {
      for (const s of open.splice(0)) await s.close();
      await dropSchema(schema);
    });

    it('applies the migrations once when several instances start at once', async () => {
      const stores = Array.from({ length: 5 }, instance);
      await Promise.all(stores.map((s) => s.init()));
      const rows = await admin.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      expect(rows.rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
      await Promise.all(stores.map((s) => s.health()));
    });

    it('refuses a schema migrated by a newer capgate', async () => {
      await instance().init();
      await admin.query(`INSERT INTO "${schema}".schema_migrations (version, name) VALUES (999, 'future')`);
      expect((await codeOf(instance().init())).code).toBe('CAPGATE_POLICY_STORE_UNAVAILABLE');
    });

    it('tells another instance about a decision at once (LISTEN/NOTIFY)', async () => {
      const a = instance();
      const b = instance();
      await Promise.all([a.init(), b.init()]);
      const seenByB: string[] = [];
      let resolveSeen: (value: string) => void = () => undefined;
      const seen = new Promise<string>((resolve) => {
        resolveSeen = resolve;
      });
      b.onDecisionChanged((n, v) => {
        seenByB.push(`${n}@${v}`);
        resolveSeen(`${n}@${v}`);
      });
      await b.listening();
      await a.setDecision({ record: sampleDecision('@s/shared', '2.0.0', 'approved', { by: 'alice' }) });
      expect(await seen).toBe('@s/shared@2.0.0');
      expect((await b.getDecision({ name: '@s/shared', version: '2.0.0' }))?.state).toBe('approved');
    });

    it('never claims one delivery for two instances draining at once', async () => {
      const a = instance();
      const b = instance();
      await Promise.all([a.init(), b.init()]);
      const createdAt = new Date(Date.now() - 1000).toISOString();
      for (let i = 0; i < 15; i++) {
        await a.enqueueEvent({ event: { id: `ev-${i}`, type: 'flagged', createdAt, name: 'x', version: '1.0.0', payload: {} }, targets: ['t1', 't2'] });
      }
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).claimDeliveries({ owner: `w${i}`, limit: 4, leaseMs: 60_000 })));
      const keys = claims.flat().map((d) => `${d.event.id}/${d.target}`);
      expect(keys).toHaveLength(30);
      expect(new Set(keys).size).toBe(30);
    });

    it('gives an analysis lease to exactly one of many instances', async () => {
      const stores = [instance(), instance(), instance()];
      await Promise.all(stores.map((s) => s.init()));
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 3]!.acquireLease({ key: 'left-pad@1.0.0', owner: `o${i}`, ttlMs: 60_000 })));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('serialises concurrent decisions on one version across instances: one audit entry per change', async () => {
      const a = instance();
      const b = instance();
      await Promise.all([a.init(), b.init()]);
      await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).setDecision({ record: sampleDecision('racy', '1.0.0', 'held') })));
      expect(await a.listAudit({ name: 'racy' })).toHaveLength(1);
    });

    it('reports a row it cannot read as CAPGATE_POLICY_STORE_CORRUPT naming it', async () => {
      const a = instance();
      await a.setDecision({ record: sampleDecision('left-pad', '1.0.0', 'held') });
      await admin.query(`UPDATE "${schema}".decisions SET record = '[1,2]'::json`);
      expect(await codeOf(a.getDecision({ name: 'left-pad', version: '1.0.0' }))).toEqual({ code: 'CAPGATE_POLICY_STORE_CORRUPT', file: 'decisions:left-pad@1.0.0' });
    });

    it('keeps NUL characters in evidence snippets (json, not jsonb)', async () => {
      const a = instance();
      const record = sampleDecision('nul', '1.0.0', 'held', {
        diff: { ...sampleDecision('nul', '1.0.0', 'held').diff, evidence: { 'child-process': [{ file: 'a.js', line: 1, column: 0, api: 'x', snippet: 'a\u0000b' }] } },
      });
      await a.setDecision({ record });
      expect((await a.getDecision({ name: 'nul', version: '1.0.0' }))?.diff.evidence['child-process']?.[0]?.snippet).toBe('a\u0000b');
    });
  });

  describe('PostgresStore without a server', () => {
    it('answers CAPGATE_POLICY_STORE_UNAVAILABLE when the server cannot be reached', async () => {
      // Port 1 on loopback: nothing listens there, the connection is refused at once.
      const store = new PostgresStore({ url: 'postgres://postgres@127.0.0.1:1/test', schema: 'capgate_unreachable', connectionTimeoutMs: 2_000 });
      try {
        expect((await codeOf(store.init())).code).toBe('CAPGATE_POLICY_STORE_UNAVAILABLE');
        expect((await codeOf(store.getPolicy({ name: 'a', version: '1.0.0' }))).code).toBe('CAPGATE_POLICY_STORE_UNAVAILABLE');
        expect((await codeOf(store.health())).code).toBe('CAPGATE_POLICY_STORE_UNAVAILABLE');
      } finally {
        await store.close();
      }
    });
  });
}
