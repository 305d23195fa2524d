// A real webhook receiver for tests: node http on 127.0.0.1 that can go down, come back on the same
// port, answer errors or hang; it records every request and any concurrent duplicate delivery.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly path: string;
  readonly eventId: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export type ReceiverMode = 'ok' | 'error' | 'hang';

export class TestReceiver {
  readonly received: ReceivedRequest[] = [];
  /** (path, event id) pairs that arrived while the same pair was still being answered. */
  readonly concurrentDuplicates: string[] = [];
  mode: ReceiverMode = 'ok';
  /** Delay before answering, to widen the window in which a double delivery would overlap. */
  delayMs = 0;
  port = 0;
  private server: http.Server | null = null;
  private readonly inFlight = new Set<string>();
  private readonly hanging = new Set<http.ServerResponse>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isUp(): boolean {
    return this.server !== null;
  }

  /** Listens on `port` (0 = any free port the first time, then the same port again). */
  async start(): Promise<void> {
    if (this.server !== null) return;
    const server = http.createServer((req, res) => this.handle(req, res));
    // Retry briefly if the port we had is not free yet (TIME_WAIT is not an issue for listening sockets on Linux, but be safe).
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.port, '127.0.0.1', () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (e) {
        if (attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Goes down: stops listening and drops every open connection (as a crashed receiver would). */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  countFor(path: string, eventId: string): number {
    return this.received.filter((r) => r.path === path && r.eventId === eventId).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const eventId = String(req.headers['x-capgate-event-id'] ?? '');
      const path = req.url ?? '';
      const key = `${path} ${eventId}`;
      if (this.inFlight.has(key)) this.concurrentDuplicates.push(key);
      if (this.mode === 'hang') {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
        return;
      }
      this.inFlight.add(key);
      const answer = (): void => {
        this.inFlight.delete(key);
        if (this.mode === 'error') {
          res.statusCode = 500;
          res.end('nope');
          return;
        }
        this.received.push({ path, eventId, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.statusCode = 204;
        res.end();
      };
      if (this.delayMs > 0) setTimeout(answer, this.delayMs);
      else answer();
    });
  }
}

/**
 * Polls `check` until it returns true. The limit only turns a hang into a readable failure; no
 * test asserts how long anything took.
 */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`gave up waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
