// Owns the outbound webhook POST: node http/https, one request, hard timeout, no redirects, bounded response.
import * as http from 'node:http';
import * as https from 'node:https';

export interface WebhookRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly timeoutMs: number;
}

export interface WebhookResponse {
  readonly status: number;
}

/** Sends one webhook request; resolves with the status (any status), rejects on network error or timeout. */
export type WebhookSender = (req: WebhookRequest) => Promise<WebhookResponse>;

/** Response bytes read before the socket is dropped: receivers' answers are not used. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * The default sender. `agent: false` gives every attempt a fresh connection (no keep-alive socket
 * to a receiver that went away), redirects are reported as their 3xx status (never followed: the
 * configured URL is the only place an event goes).
 */
export const sendWebhook: WebhookSender = (req) =>
  new Promise<WebhookResponse>((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      reject(new Error('invalid webhook URL'));
      return;
    }
    const mod = url.protocol === 'https:' ? https : http;
    const body = Buffer.from(req.body, 'utf8');
    let settled = false;
    const finish = (err: Error | null, status?: number): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err !== null) reject(err);
      else resolve({ status: status ?? 0 });
    };
    const request = mod.request(
      url,
      { method: 'POST', agent: false, headers: { ...req.headers, 'content-length': String(body.length) } },
      (res) => {
        const status = res.statusCode ?? 0;
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) {
            res.destroy();
            finish(null, status);
          }
        });
        res.on('end', () => finish(null, status));
        res.on('error', (e) => finish(e));
        res.on('close', () => finish(null, status));
      },
    );
    const timer = setTimeout(() => {
      const e = new Error(`no response within ${req.timeoutMs} ms`);
      finish(e);
      request.destroy(e);
    }, req.timeoutMs);
    request.on('error', (e) => finish(e));
    request.end(body);
  });
