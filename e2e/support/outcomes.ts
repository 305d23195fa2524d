// Owns the assertions on what the real npm client printed and the wait for a gate decision, shared
// by the e2e tests now that the metadata filter hides decided versions: an undecided version's
// tarball or a lockfile pin gets the gate's E403 and reason; an exact version the filter hides gets
// npm's own ETARGET (npm never asks for its tarball).
import { requestJson } from './upstream';

export interface NpmOutcome {
  readonly code: number | null;
  readonly output: string;
}

/** npm failed on the gate's 403 and printed every fragment of the reason. */
export function expectRefused(result: NpmOutcome, ...fragments: string[]): void {
  expect({ code: result.code === 0 ? 0 : 'failed', output: result.output }).toMatchObject({ code: 'failed' });
  expect(result.output).toContain('E403');
  for (const f of fragments) expect(result.output).toContain(f);
  expect(result.output).not.toContain('ETARGET');
  expect(result.output).not.toContain('E404');
}

/** npm could not resolve `spec` at all: the filter hid the version, so no tarball was asked for. */
export function expectNoMatchingVersion(result: NpmOutcome, spec: string): void {
  expect({ code: result.code === 0 ? 0 : 'failed', output: result.output }).toMatchObject({ code: 'failed' });
  expect(result.output).toContain('ETARGET');
  expect(result.output).toContain(`No matching version found for ${spec}`);
  expect(result.output).not.toContain('E403');
}

/** `@scope/name` as the policy route spells it. */
const urlName = (name: string): string => name.replace('/', '%2f');

/**
 * Waits (bounded: 120 s) until the gated registry at `registryUrl` has a decision for
 * name@version, e.g. one made by background analysis; returns the policy route's body.
 */
export async function waitForDecision(registryUrl: string, name: string, version: string, log: () => string = () => ''): Promise<Record<string, unknown>> {
  const until = Date.now() + 120_000;
  for (;;) {
    const r = await requestJson('GET', `${registryUrl}-/capgate/v1/policies/${urlName(name)}/${version}`);
    const body = r.body as Record<string, unknown> | null;
    if (r.status === 200 && body !== null && typeof body['state'] === 'string') return body;
    if (Date.now() > until) throw new Error(`no decision for ${name}@${version}: ${r.status} ${JSON.stringify(r.body)}\n${log().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The versions and dist-tags the gated registry shows npm for `name` (after its metadata filter). */
export async function visibleVersions(registryUrl: string, name: string): Promise<{ versions: string[]; latest: string | undefined }> {
  const r = await requestJson('GET', `${registryUrl}${urlName(name)}`);
  if (r.status !== 200) throw new Error(`packument ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  const body = r.body as { versions?: Record<string, unknown>; 'dist-tags'?: Record<string, string> };
  return { versions: Object.keys(body.versions ?? {}).sort(), latest: body['dist-tags']?.['latest'] };
}
