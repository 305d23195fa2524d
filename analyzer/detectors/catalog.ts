// Owns the coarse map from built-in module to capability, used when tracking is lost (a module value
// escapes) and by the lexical fallback. Member-level rules live in the detectors.
import type { CapabilityId } from '../types';

export const MODULE_CAPABILITIES: Readonly<Record<string, readonly CapabilityId[]>> = {
  child_process: ['child-process'],
  http: ['network'],
  https: ['network'],
  http2: ['network'],
  net: ['network'],
  tls: ['network'],
  dgram: ['network'],
  dns: ['network'],
  vm: ['code-eval'],
  module: ['module-internals'],
  fs: ['fs-read', 'fs-write'],
  os: ['os-info'],
  worker_threads: ['worker'],
  cluster: ['worker'],
  wasi: ['wasm'],
  inspector: ['debug-inspector'],
  crypto: ['crypto'],
  bindings: ['native-code'],
  'node-gyp-build': ['native-code'],
  'prebuild-install': ['native-code'],
  'node-pre-gyp': ['native-code'],
  '@mapbox/node-pre-gyp': ['native-code'],
};

/** Third-party loaders of native addons. */
/**
 * Browser wallet globals (injected by wallet extensions): drainers hook their request and signing
 * methods, directly (`ethereum.request = ...`) or through an alias (`const e = window.ethereum`).
 */
export const WALLET_GLOBALS: ReadonlySet<string> = new Set(['ethereum', 'solana', 'phantom', 'tronWeb']);

export const NATIVE_LOADERS: ReadonlySet<string> = new Set(['bindings', 'node-gyp-build', 'prebuild-install', 'node-pre-gyp', '@mapbox/node-pre-gyp', 'node-gyp-build-optional-packages', 'pkg-prebuilds', 'prebuildify', '@neon-rs/load']);
