// Child process for file-store.test.ts: writes to a FileStore in a loop until it is killed, and
// prints one line per acknowledged write so the parent knows what must survive a SIGKILL.
// argv: <dir> <mode: decisions|audit|outbox> <tag>
import { FileStore } from '../file-store';
import { samplePolicy, sampleDecision } from '../store.contract';

async function main(): Promise<void> {
  const [dir, mode = 'decisions', tag = 'w'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: crash-writer <dir> <mode> <tag>');
  const store = new FileStore({ dir });
  await store.init();
  process.stdout.write('ready\n');
  const limit = Number(process.env.CRASH_WRITER_LIMIT ?? Number.POSITIVE_INFINITY);
  for (let i = 0; i < limit; i++) {
    if (mode === 'decisions') {
      // Big records (a long diff) make the kill more likely to land inside a write. `tag` is the first index.
      const n = Number(tag) + i;
      const name = `@crash/p${n % 7}`;
      const version = `1.0.${n}`;
      await store.putPolicy({ name, version, integrity: `sha512-${n}`, policy: { ...samplePolicy(name, version, ['network']), keypaths: Array.from({ length: 300 }, (_, k) => `k${k}.x${n}`) } });
      await store.setDecision({ record: sampleDecision(name, version, n % 2 === 0 ? 'held' : 'flagged', { reason: `r${n} ${'x'.repeat(2000)}` }) });
      // One key overwritten again and again: it must always read as one whole record.
      await store.setDecision({ record: sampleDecision('crash-hot', '1.0.0', n % 2 === 0 ? 'held' : 'approved', { by: n % 2 === 0 ? 'capgate' : 'alice', reason: `hot ${n}` }) });
      process.stdout.write(`ack ${n}\n`);
    } else if (mode === 'audit') {
      const entry = await store.appendAudit({ entry: { name: 'audit-pkg', version: '1.0.0', action: 'note', by: tag, reason: `${tag}-${i}` } });
      process.stdout.write(`ack ${i} ${entry.id}\n`);
    } else if (mode === 'outbox') {
      const claimed = await store.claimDeliveries({ owner: tag, limit: 2, leaseMs: 600_000 });
      for (const d of claimed) {
        process.stdout.write(`claim ${d.event.id}/${d.target}\n`);
        await store.completeDelivery({ eventId: d.event.id, target: d.target, owner: tag });
      }
      if (claimed.length === 0 && (await store.outboxDepth()) === 0) break;
    }
  }
  await store.close();
  process.stdout.write('done\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
