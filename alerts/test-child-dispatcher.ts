// A second registry instance for the alerts tests: a separate process with its own FileStore on the
// same folder and its own dispatcher, running until the outbox is empty.
// argv: <store dir> <receiver url> <owner>
import { FileStore } from '../policy-store/file-store';
import { parseWebhookTargets } from './config';
import { AlertDispatcher } from './dispatcher';

async function main(): Promise<void> {
  const [dir, url, owner] = process.argv.slice(2);
  if (dir === undefined || url === undefined || owner === undefined) throw new Error('usage: <dir> <url> <owner>');
  const store = new FileStore({ dir });
  await store.init();
  const targets = parseWebhookTargets([
    { id: 'siem', kind: 'json', url: `${url}/json`, secret: 'receiver-secret-0123456789' },
    { id: 'chat', kind: 'slack', url: `${url}/slack` },
  ]);
  const d = new AlertDispatcher({ store, targets, owner, backoff: { baseMs: 10, maxMs: 100 }, pollMs: 20, timeoutMs: 2000 });
  process.send?.('ready');
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  d.start();
  while ((await store.outboxDepth()) > 0) await new Promise((r) => setTimeout(r, 20));
  await d.stop();
  await store.close();
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
