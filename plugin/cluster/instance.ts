// Owns the identity of one gated registry among several: the `capgate_instance` metrics label and
// the owner name of its analysis leases and outbox claims.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** What names this instance: `cluster.instanceId` from the config, else CAPGATE_INSTANCE_ID, else `<hostname>:<pid>`. */
export function instanceIdOf(configured: string | null, env: NodeJS.ProcessEnv = process.env): string {
  if (configured !== null && configured !== '') return configured;
  const fromEnv = env['CAPGATE_INSTANCE_ID']?.trim();
  if (fromEnv !== undefined && fromEnv !== '' && fromEnv.length <= 128) return fromEnv;
  return `${hostname()}:${process.pid}`;
}

/**
 * Lease and claim owner: the instance id plus a random suffix. Two instances started from one copied
 * configuration (same `instanceId`) must still never take each other's lease for their own: the
 * store renews a lease for the same owner.
 */
export function ownerIdOf(instanceId: string): string {
  return `${instanceId.slice(0, 200)}/${randomUUID().slice(0, 8)}`;
}
