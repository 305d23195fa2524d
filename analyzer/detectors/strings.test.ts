import { hostsIn, sensitivePathIn, strings } from './strings';
import { runDetector } from '../../test-support/run-detector';

describe('hostsIn', () => {
  it.each([
    ['https://api.github.com/repos', ['api.github.com']],
    ['http://45.9.148.108/miner', ['45.9.148.108']],
    ['wss://user:pw@relay.attacker.tld:8443/x', ['relay.attacker.tld']],
    ['185.62.56.25', ['185.62.56.25']],
    ['http://www.w3.org/2000/svg', []],
    ['http://json-schema.org/draft-07/schema#', []],
    ['https://example.com/x', []],
    ['http://localhost:3000', []],
    ['http://127.0.0.1:8080/', []],
    ['See https://github.com/foo/bar#readme for details', []],
    ['<script src="https://cdn.evil.tld/x.js"></script>', ['cdn.evil.tld']],
    ['1.2.3.4', []],
    ['https://${host}/x', []],
  ])('%s', (value, expected) => {
    expect(hostsIn(value)).toEqual(expected);
  });
});

describe('sensitivePathIn', () => {
  it.each([
    ['/.npmrc', '.npmrc'],
    ['.npmrc', '.npmrc'],
    ['.ssh/id_rsa', '.ssh'],
    ['.aws/credentials', '.aws'],
    ['/etc/passwd', '/etc/passwd'],
    ['AppData/Local/Google/Chrome/User Data', 'browser-profile'],
    ['Library/Application Support/Exodus/exodus.wallet', 'wallet'],
    ['nkbihfbeogaeaoehlefnkodbefgpgknn', 'wallet-extension'],
  ])('%s', (value, expected) => {
    expect(sensitivePathIn(value)).toBe(expected);
  });
  it.each(['npmrc-parser', 'sshd_config docs', 'passwords.txt', 'src/ssh.js'])('%s is not sensitive', (value) => {
    expect(sensitivePathIn(value)).toBeUndefined();
  });
});

runDetector(strings, {
  valid: [
    '// https://evil.tld/in-a-comment\nconst x = 1',
    '/* fetch("http://1.2.3.4") */',
    'throw new Error("Invalid option, see https://docs.lib.dev/errors#E1")',
    'const ns = "http://www.w3.org/1999/xhtml"',
  ],
  invalid: [
    { code: 'get("https://pastebin.com/raw/XLeVP82h")', capabilities: ['url-literals'], apis: ['host:pastebin.com'] },
    { code: 'const u = `https://exfil.tld/collect?d=${data}`', capabilities: ['url-literals'], apis: ['host:exfil.tld'] },
    { code: 'readFileSync(join(homedir(), ".npmrc"))', capabilities: ['sensitive-paths'], apis: ['path:.npmrc'] },
    { code: 'const p = `${home}/.ssh/id_rsa`', capabilities: ['sensitive-paths'], apis: ['path:.ssh'] },
  ],
});
