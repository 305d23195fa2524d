// Owns telling onDecisionChanged subscribers about a decision: one throwing listener never stops
// the others or the store.
import type { StoreLogger } from './store';

export type DecisionListener = (name: string, version: string) => void;

export function notifyDecisionListeners(listeners: Iterable<DecisionListener>, name: string, version: string, logger: StoreLogger | undefined): void {
  for (const listener of listeners) {
    try {
      listener(name, version);
    } catch (err) {
      logger?.warn({ pkg: name, version, err: String(err) }, 'policy store: a decision listener threw');
    }
  }
}
