// Owns the data shapes that cross room boundaries: capabilities, evidence, policies and diffs.
// These are contracts: the CLI's --json output, the policy store and the HTTP API all carry them.

/** Capability ids, exactly as ../shared/CAPABILITIES.md names them. */
export const CAPABILITY_IDS = [
  'install-script',
  'child-process',
  'network',
  'code-eval',
  'dynamic-require',
  'module-internals',
  'process-internals',
  'native-code',
  'fs-write',
  'env-enumerate',
  'sensitive-paths',
  'obfuscation',
  'url-dependency',
  'fs-read',
  'env-read',
  'os-info',
  'worker',
  'wasm',
  'debug-inspector',
  'global-tamper',
  'crypto',
  'url-literals',
  'new-dependency',
] as const;

export type CapabilityId = (typeof CAPABILITY_IDS)[number];

export type Tier = 'block' | 'flag';

/** Default tier per capability (CAPABILITIES.md); operators may override per capability, package or scope. */
export const DEFAULT_TIERS: Readonly<Record<CapabilityId, Tier>> = Object.freeze({
  'install-script': 'block',
  'child-process': 'block',
  network: 'block',
  'code-eval': 'block',
  'dynamic-require': 'block',
  'module-internals': 'block',
  'process-internals': 'block',
  'native-code': 'block',
  'fs-write': 'block',
  'env-enumerate': 'block',
  'sensitive-paths': 'block',
  obfuscation: 'block',
  'url-dependency': 'block',
  'fs-read': 'flag',
  'env-read': 'flag',
  'os-info': 'flag',
  worker: 'flag',
  wasm: 'flag',
  'debug-inspector': 'flag',
  'global-tamper': 'flag',
  crypto: 'flag',
  'url-literals': 'flag',
  'new-dependency': 'flag',
});

export function isCapabilityId(value: unknown): value is CapabilityId {
  return typeof value === 'string' && (CAPABILITY_IDS as readonly string[]).includes(value);
}

/** One piece of evidence for a capability. `file` is relative to the package root ("package/" stripped). */
export interface Evidence {
  readonly file: string;
  /** 1-based line; 0 when the evidence is not a source location (a package.json field, a whole file). */
  readonly line: number;
  /** 0-based column. */
  readonly column: number;
  /** API keypath, e.g. `child_process.exec`, `process.env.NPM_TOKEN`, `host:example.com`, `dep:left-pad`. */
  readonly api: string;
  /** Short snippet of the source (at most 120 characters, single line). */
  readonly snippet: string;
  /** False when no entry point reaches the file (tests, examples). Absent means reachable. */
  readonly reachable?: boolean;
  /** Set when the capability was inherited from a dependency (issue 5): the dependency's name@version. */
  readonly via?: string;
}

/** A non-capability observation about the package: archive problems, unparsable files, limits hit. */
export interface Finding {
  /** Namespaced rule id, e.g. `archive/path-traversal`, `source/unparseable`, `source/too-large`. */
  readonly ruleId: string;
  readonly file: string;
  readonly message: string;
}

/** What one package version can do. Deterministic: same bytes + same rules version => same JSON. */
export interface PackagePolicy {
  /** Format version of this object. */
  readonly schema: 1;
  /** Bumped whenever detectors change what they report; diffs only compare equal rules versions. */
  readonly rulesVersion: string;
  readonly name: string;
  readonly version: string;
  /** Sorted, unique capability ids (reachable or not). */
  readonly capabilities: readonly CapabilityId[];
  /** Evidence per capability, deterministic order (file, line, column, api). Capped per id. */
  readonly evidence: Readonly<Partial<Record<CapabilityId, readonly Evidence[]>>>;
  /** Sorted, unique API keypaths seen (finer, lower-tier signal). */
  readonly keypaths: readonly string[];
  /** Sorted, unique URL hosts/IPs found in literals. */
  readonly hosts: readonly string[];
  /** Runtime dependencies: dependencies + optionalDependencies + peerDependencies (name -> range). */
  readonly dependencies: Readonly<Record<string, string>>;
  /** Install-time scripts (preinstall/install/postinstall, plus the implicit node-gyp one). */
  readonly installScripts: Readonly<Record<string, string>>;
  readonly findings: readonly Finding[];
  readonly stats: { readonly files: number; readonly jsFiles: number; readonly bytes: number };
}

export type Decision = 'allow' | 'flag' | 'block';

/** Result of comparing a new version's policy with its baseline. */
export interface PolicyDiff {
  readonly gained: readonly CapabilityId[];
  readonly lost: readonly CapabilityId[];
  readonly decision: Decision;
  /** Evidence for every gained id (and for flagged lower-tier changes). */
  readonly evidence: Readonly<Partial<Record<CapabilityId, readonly Evidence[]>>>;
  /** Baseline version compared with, or null for a brand-new package. */
  readonly baseline: string | null;
  /** Fine-grained, lower-tier changes: reported, never a decision on their own. */
  readonly details: {
    readonly newKeypaths: readonly string[];
    readonly newHosts: readonly string[];
    readonly newDependencies: readonly string[];
    readonly changedInstallScripts: readonly string[];
  };
}

/**
 * The files of one package, keyed by path relative to the package root (the tarball's leading
 * `package/` folder stripped, `/` separators, no `.`/`..` segments), in sorted order.
 */
export type PackageFiles = ReadonlyMap<string, Uint8Array>;
