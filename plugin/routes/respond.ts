// Owns how the plugin answers with JSON and how it builds reviewer links (one place for both).
import type { Request, Response } from 'express';
import { GATE_ERROR_DESCRIPTIONS, GateError } from '../errors';
import { statusFor } from '../http-errors';
import { failureText } from '../message';

export const API_PREFIX = '/-/capgate/v1';

export function sendJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  const phrase = refusalPhrase(res, status, body);
  if (phrase !== null) res.statusMessage = phrase;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** Longest reason phrase a refusal puts in its status line. */
export const MAX_STATUS_MESSAGE = 300;

/**
 * `text` as an HTTP reason phrase: printable ASCII only (anything else, CR and LF included, would
 * make Node throw or split the status line), whitespace collapsed, at most MAX_STATUS_MESSAGE characters.
 */
export function statusMessageOf(text: string): string {
  const flat = text
    .replace(/[\t\r\n\v\f]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  return flat.length > MAX_STATUS_MESSAGE ? `${flat.slice(0, MAX_STATUS_MESSAGE - 3)}...` : flat;
}

/**
 * The status line of a 403 refusal carries its one-line reason (the JSON `error`): pnpm and yarn
 * build their message from the status line and never print the body. npm prints the status line
 * and the `error` ("403 Forbidden - GET <url> - <error>"), so it keeps the standard phrase and
 * prints the reason once.
 */
function refusalPhrase(res: Response, status: number, body: unknown): string | null {
  if (status !== 403 || typeof body !== 'object' || body === null) return null;
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'string') return null;
  const agent = (res as Partial<Pick<Response, 'req'>>).req?.headers['user-agent'];
  if (typeof agent === 'string' && /^npm\//.test(agent)) return null;
  const phrase = statusMessageOf(error);
  return phrase === '' ? null : phrase;
}

/** `@scope/name` -> `@scope%2fname`, as npm spells scoped names in URLs. */
export function encodeName(name: string): string {
  return name.startsWith('@') ? `@${encodeURIComponent(name.slice(1))}`.replace(/%2F/g, '%2f') : encodeURIComponent(name);
}

/** Origin for links: the configured public URL, else the request's own (as Verdaccio builds tarball URLs). */
export function originOf(req: Request, publicUrl: string | null): string {
  if (publicUrl !== null) return publicUrl;
  const host = req.headers.host ?? '';
  const safeHost = /^[A-Za-z0-9.\-:[\]]{1,255}$/.test(host) ? host : 'localhost';
  const proto = req.protocol === 'https' ? 'https' : 'http';
  return `${proto}://${safeHost}`;
}

export function policyUrl(origin: string, name: string, version: string): string {
  return `${origin}${API_PREFIX}/policies/${encodeName(name)}/${encodeURIComponent(version)}`;
}

/** JSON answer for a GateError: `error` is the one line npm prints; `code` for machines. */
export function sendGateError(res: Response, err: GateError, ctx: { name: string | null; version: string | null; link: string | null }): void {
  const status = statusFor(err.code);
  const subject = ctx.name ?? 'request';
  const body: Record<string, unknown> = {
    error: failureText(subject, ctx.version, err.code, err.message, ctx.link),
    code: err.code,
    reason: GATE_ERROR_DESCRIPTIONS[err.code],
  };
  if (ctx.name !== null) body['name'] = ctx.name;
  if (ctx.version !== null) body['version'] = ctx.version;
  for (const [k, v] of Object.entries(err.details)) if (!(k in body) && isPlain(v)) body[k] = v;
  sendJson(res, status, body);
}

function isPlain(v: unknown): boolean {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v) || (typeof v === 'object' && !(v instanceof Error));
}
