// Owns the list of AST detectors, all merged into one traversal by the scan engine.
import type { Detector } from './types';
import { network } from './network';
import { childProcess } from './process';
import { filesystem } from './filesystem';
import { dynamicCode } from './dynamic-code';
import { envAccess } from './env-access';
import { moduleInternals } from './module-internals';
import { globals } from './globals';
import { system } from './system';
import { obfuscation } from './obfuscation';
import { nativeCode } from './native-code';
import { strings } from './strings';

export const DETECTORS: readonly Detector[] = [
  network,
  childProcess,
  filesystem,
  dynamicCode,
  envAccess,
  moduleInternals,
  globals,
  system,
  obfuscation,
  nativeCode,
  strings,
];

export type { Detector, DetectorContext, DetectorHooks, NodeVisitor, Use, UseKind, Root } from './types';
