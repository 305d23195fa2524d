// Owns fs-read and fs-write: member-level classification of `fs` and `fs/promises`; an fs value that
// escapes (passed on, re-exported) counts as both.
import type { Detector } from './types';
import { keypathOf } from './types';

const WRITE = new Set([
  'writeFile', 'writeFileSync', 'appendFile', 'appendFileSync', 'mkdir', 'mkdirSync', 'mkdtemp', 'mkdtempSync',
  'rm', 'rmSync', 'rmdir', 'rmdirSync', 'unlink', 'unlinkSync', 'rename', 'renameSync', 'chmod', 'chmodSync',
  'fchmod', 'fchmodSync', 'lchmod', 'lchmodSync', 'chown', 'chownSync', 'fchown', 'fchownSync', 'lchown', 'lchownSync',
  'symlink', 'symlinkSync', 'link', 'linkSync', 'copyFile', 'copyFileSync', 'cp', 'cpSync', 'createWriteStream',
  'write', 'writeSync', 'writev', 'writevSync', 'truncate', 'truncateSync', 'ftruncate', 'ftruncateSync',
  'utimes', 'utimesSync', 'futimes', 'futimesSync', 'lutimes', 'lutimesSync', 'open', 'openSync',
]);
const READ = new Set([
  'readFile', 'readFileSync', 'readdir', 'readdirSync', 'stat', 'statSync', 'lstat', 'lstatSync', 'fstat', 'fstatSync',
  'createReadStream', 'read', 'readSync', 'readv', 'readvSync', 'readlink', 'readlinkSync', 'realpath', 'realpathSync',
  'exists', 'existsSync', 'access', 'accessSync', 'opendir', 'opendirSync', 'watch', 'watchFile', 'glob', 'globSync', 'statfs', 'statfsSync',
]);
const SKIP = new Set(['promises', 'default', 'native']);

export const filesystem: Detector = {
  meta: {
    id: 'filesystem/access',
    capabilities: ['fs-read', 'fs-write'],
    severity: 'high',
    description: 'Reads or writes the file system through fs / fs/promises',
  },
  create: (ctx) => ({
    onUse(use) {
      const { root, members } = use;
      if (root.kind !== 'module' || root.spec !== 'fs' || use.how === 'typeof') return;
      let i = 0;
      while (i < members.length && SKIP.has(members[i] ?? '')) i++;
      const m = members[i];
      const api = keypathOf(root, members.slice(0, i + 1));
      if (m === undefined || m === '*') {
        // The whole module (or an unknown member) handed on: tracking is lost, assume both.
        if (use.how === 'bind' || use.how === 'read') return;
        ctx.report({ capability: 'fs-read', api, path: use.path });
        ctx.report({ capability: 'fs-write', api, path: use.path });
        return;
      }
      if (WRITE.has(m)) {
        // fs.open(path, 'r') is a read.
        if ((m === 'open' || m === 'openSync') && use.call !== undefined) {
          const flag = use.call.node.arguments[1];
          const f = flag === undefined ? { value: 'r' } : ctx.fold(flag, use.call.scope);
          if (f !== undefined && /^r\+?s?$|^rs\+?$/.test(f.value) && !f.value.includes('+')) {
            ctx.report({ capability: 'fs-read', api, path: use.path });
            return;
          }
        }
        ctx.report({ capability: 'fs-write', api, path: use.path });
      } else if (READ.has(m)) {
        ctx.report({ capability: 'fs-read', api, path: use.path });
      }
    },
  }),
};
