import { network } from './network';
import { runDetector } from '../../test-support/run-detector';

runDetector(network, {
  valid: [
    // shadowed
    () => {
      const fetch = (_u: string): void => undefined;
      fetch('https://a.b/c');
    },
    () => {
      function get(require: (s: string) => { get(u: string): void }): void {
        require('https').get('x');
      }
      return get;
    },
    'import http from "./http"; http.get("x")',
    'const { STATUS_CODES } = require("http"); STATUS_CODES[404]',
    'if (typeof fetch === "function") {}',
    'const net = require("net"); net.isIP("1.2.3.4")',
  ],
  invalid: [
    { code: () => require('https').get('https://x.org/'), capabilities: ['network'], apis: ['https.get'] },
    { code: () => require('node:http').request({}), capabilities: ['network'], apis: ['http.request'] },
    {
      code: () => {
        const { request: r } = require('node:https');
        r({ host: 'h' });
      },
      capabilities: ['network'],
      apis: ['https.request'],
    },
    {
      code: () => {
        let h;
        h = require('http');
        h.get('u');
      },
      capabilities: ['network'],
      apis: ['http.get'],
    },
    { code: 'import * as net from "node:net"; net.connect(1)', capabilities: ['network'], apis: ['net.connect'] },
    { code: 'import { lookup } from "dns"; lookup("x")', capabilities: ['network'], apis: ['dns.lookup'] },
    { code: 'export { request } from "https"', capabilities: ['network'] },
    { code: 'const m = await import("node:tls"); m.connect()', capabilities: ['network'] },
    { code: () => fetch('https://x.org'), capabilities: ['network'], apis: ['fetch'] },
    { code: 'new XMLHttpRequest().open("GET", u)', capabilities: ['network'], apis: ['XMLHttpRequest'] },
    { code: 'new WebSocket("wss://x.org")', capabilities: ['network'] },
    { code: 'navigator.sendBeacon("/x", data)', capabilities: ['network'], apis: ['navigator.sendBeacon'] },
    { code: 'window.fetch("/x")', capabilities: ['network'], apis: ['fetch'] },
    { code: 'const f = globalThis.fetch; f("/x")', capabilities: ['network'] },
    { code: 'const { createRequire } = require("module"); const r = createRequire(__filename); r("http").get("x")', capabilities: ['network'], apis: ['http.get'] },
    { code: 'const https = __importDefault(require("https")); https.default.get("x")', capabilities: ['network'], apis: ['https.get'] },
  ],
});
