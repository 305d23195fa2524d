// Owns the pnpm and yarn clients of the e2e tests: installed once per run from the npm registry the
// user's npm configuration names (never written here), into a temp folder, and run in isolated
// temp projects: their own HOME (so no user .npmrc/.yarnrc applies), store, cache and registry flag.
import * as fs from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanEnv, removeOnExit } from './gated';
import type { NpmResult } from './npm';
import { runCommand, runNpm } from './npm';

/**
 * pnpm 9 supports Node 18 and later (the machines here run Node 20); yarn 1 is the classic client;
 * yarn 4 (berry, Node 18.12 and later) is the current one, published on npm as @yarnpkg/cli-dist.
 */
export const CLIENT_SPECS = ['pnpm@9', 'yarn@1', '@yarnpkg/cli-dist@4'] as const;

export interface Clients {
  readonly pnpm: string;
  readonly yarn: string;
  readonly yarnBerry: string;
}

/** Installs pnpm and yarn with the user's npm (its registry and cache) into a temp folder. */
export async function installClients(): Promise<Clients> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'capgate-clients-'));
  removeOnExit(dir);
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'capgate-e2e-clients', private: true }));
  const r = await runNpm(['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', '--loglevel=error', ...CLIENT_SPECS], dir, 300_000);
  if (r.code !== 0) throw new Error(`cannot install ${CLIENT_SPECS.join(' ')} with npm:\n${r.output}`);
  return {
    pnpm: path.join(dir, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs'),
    yarn: path.join(dir, 'node_modules', 'yarn', 'bin', 'yarn.js'),
    yarnBerry: path.join(dir, 'node_modules', '@yarnpkg', 'cli-dist', 'bin', 'yarn.js'),
  };
}

export type ClientName = 'pnpm' | 'yarn' | 'yarn-berry';

export interface ClientProject {
  readonly dir: string;
  /** `pnpm add <spec>` / `yarn add <spec>` against the registry. */
  add(spec: string): Promise<NpmResult>;
  /** Installed version of a dependency, or null. */
  installed(name: string): Promise<string | null>;
}

/** A temp project driven by one client, with its own HOME, store and cache. */
export async function makeClientProject(clients: Clients, client: ClientName, registry: string): Promise<ClientProject> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), `capgate-${client}-`));
  removeOnExit(root);
  const dir = path.join(root, 'project');
  const home = path.join(root, 'home');
  await fs.mkdir(dir);
  await fs.mkdir(home);
  await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'e2e-client-project', version: '1.0.0', private: true }, null, 2));
  const env = cleanEnv({ HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), XDG_DATA_HOME: path.join(home, '.data'), XDG_CACHE_HOME: path.join(home, '.cache'), NO_COLOR: '1', CI: 'true' });
  if (client === 'yarn-berry') {
    // yarn 4 takes its settings from .yarnrc.yml (no --registry flag): plain http only for the loopback
    // registry, node_modules on disk (so installed() reads it), its own cache, no telemetry, not the
    // immutable installs it turns on under CI, no quarantine of new versions.
    const host = new URL(registry).hostname;
    const rc = {
      npmRegistryServer: registry,
      unsafeHttpWhitelist: [host],
      nodeLinker: 'node-modules',
      enableGlobalCache: false,
      cacheFolder: path.join(root, 'cache'),
      enableTelemetry: false,
      enableImmutableInstalls: false,
      enableProgressBars: false,
      httpRetry: 0,
      // yarn 4.10+ quarantines versions published less than a day ago; the fixtures are minutes old.
      npmMinimalAgeGate: 0,
    };
    // JSON is YAML: no YAML writer needed.
    await fs.writeFile(path.join(dir, '.yarnrc.yml'), `${JSON.stringify(rc, null, 2)}\n`);
    await fs.writeFile(path.join(dir, 'yarn.lock'), '');
  }
  const args = (spec: string): string[] =>
    client === 'pnpm'
      ? [clients.pnpm, 'add', spec, `--registry=${registry}`, `--store-dir=${path.join(root, 'store')}`, `--cache-dir=${path.join(root, 'cache')}`, '--reporter=append-only', '--config.fetch-retries=0']
      : client === 'yarn'
        ? [clients.yarn, 'add', spec, '--registry', registry, '--cache-folder', path.join(root, 'cache'), '--non-interactive', '--no-progress', '--network-concurrency', '4']
        : [clients.yarnBerry, 'add', spec];
  return {
    dir,
    add: (spec) => runCommand(process.execPath, args(spec), dir, env, 180_000),
    installed: async (name) => {
      try {
        const pkg = JSON.parse(await fs.readFile(path.join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: unknown };
        return typeof pkg.version === 'string' ? pkg.version : null;
      } catch {
        return null;
      }
    },
  };
}

