// Owns the review page (GET /-/capgate/ui/): one self-contained HTML document, inline CSS and JS
// under a nonce-based Content-Security-Policy, no third-party requests. It logs in with Verdaccio's
// own web login, keeps the token in sessionStorage and calls the review API with a Bearer header.
import { randomBytes } from 'node:crypto';
import express, { type Router } from 'express';

export const UI_PATH = '/-/capgate/ui/';

const CSS = `
:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#5b6470;--line:#d7dbe0;--card:#fff;--held:#b42318;--flag:#b54708;--ok:#067647;--accent:#1f4fd1}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:#111827;color:#fff}
header h1{font-size:1.05rem;margin:0;font-weight:600}
header .spacer{flex:1}
header button{background:transparent;color:#fff;border:1px solid #6b7280}
main{max-width:1180px;margin:0 auto;padding:1rem 1.2rem 3rem}
section{margin-bottom:1.6rem}
h2{font-size:1rem;margin:.2rem 0 .6rem}
button{font:inherit;padding:.35rem .8rem;border-radius:6px;border:1px solid var(--line);background:#fff;cursor:pointer}
button:disabled{opacity:.5;cursor:default}
button.approve{background:var(--ok);border-color:var(--ok);color:#fff}
button.deny{background:var(--held);border-color:var(--held);color:#fff}
input[type=text],input[type=password],input[type=date]{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;margin-bottom:.8rem}
.card.target{outline:3px solid var(--accent)}
.card h3{margin:0;font-size:1rem;word-break:break-all}
.meta{color:var(--muted);font-size:.85rem;margin:.15rem 0 .5rem}
.badge{display:inline-block;padding:0 .45rem;border-radius:999px;font-size:.75rem;font-weight:600;color:#fff;vertical-align:middle}
.badge.held,.badge.denied{background:var(--held)}.badge.flagged{background:var(--flag)}.badge.approved,.badge.allowed{background:var(--ok)}
.cap{margin:.4rem 0}
.cap b{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
table{border-collapse:collapse;width:100%;font-size:.85rem}
td,th{border-top:1px solid var(--line);padding:.25rem .4rem;text-align:left;vertical-align:top}
td.loc{white-space:nowrap;font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.8rem}
td code{white-space:pre-wrap;word-break:break-all;background:#f1f3f5;padding:0 .2rem;border-radius:3px}
details{margin:.4rem 0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin-top:.6rem}
.actions input[type=text]{flex:1;min-width:16rem}
.scope{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin-top:.4rem;font-size:.85rem}
.tabs{display:flex;gap:.4rem;margin-bottom:.6rem}
.tabs button[aria-pressed=true]{background:#111827;color:#fff}
#status{min-height:1.4rem;font-weight:600}
#status.error{color:var(--held)}#status.ok{color:var(--ok)}
#login form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.empty{color:var(--muted)}
[hidden]{display:none!important}
`;

// Client script. Data from the API is only ever placed with textContent / attribute setters,
// never parsed as HTML, so package-controlled text (snippets, file names, reasons) stays text.
const JS = `
'use strict';
var API = '/-/capgate/v1';
var KEY = 'capgate.review.auth';
var state = 'pending';
function $(id) { return document.getElementById(id); }
function el(tag, attrs, children) {
  var e = document.createElement(tag);
  if (attrs) Object.keys(attrs).forEach(function (k) {
    if (k === 'text') e.textContent = attrs[k];
    else if (k === 'class') e.className = attrs[k];
    else e.setAttribute(k, attrs[k]);
  });
  (children || []).forEach(function (c) { if (c) e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c); });
  return e;
}
function auth() { try { return JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch (e) { return null; } }
function status(msg, kind) { var s = $('status'); s.textContent = msg || ''; s.className = kind || ''; }
function showLogin(msg) {
  $('login').hidden = false; $('app').hidden = true; $('who').textContent = ''; $('logout').hidden = true;
  if (msg) status(msg, 'error');
}
function api(path, opts) {
  var a = auth();
  if (!a) { showLogin(); return Promise.reject(new Error('not logged in')); }
  opts = opts || {};
  var headers = { 'Accept': 'application/json', 'Authorization': a.header };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(API + path, { method: opts.method || 'GET', headers: headers, credentials: 'omit', cache: 'no-store',
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }).then(function (res) {
    return res.json().catch(function () { return {}; }).then(function (data) {
      if (res.status === 401) { sessionStorage.removeItem(KEY); showLogin('Please log in again.'); throw new Error('unauthenticated'); }
      if (!res.ok) throw new Error((data && data.message) || ('HTTP ' + res.status));
      return data;
    });
  });
}
function login(ev) {
  ev.preventDefault();
  var user = $('user').value, pass = $('pass').value;
  status('Logging in…');
  fetch('/-/verdaccio/sec/login', { method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
    body: JSON.stringify({ username: user, password: pass }) }).then(function (res) {
    if (res.status === 404) {
      // The registry's web UI (and its login) is disabled: fall back to basic credentials for this tab.
      return { header: 'Basic ' + btoa(unescape(encodeURIComponent(user + ':' + pass))), name: user };
    }
    return res.json().catch(function () { return {}; }).then(function (data) {
      if (!res.ok || !data.token) throw new Error(res.status === 401 ? 'Wrong user name or password.' : ((data && (data.message || data.error)) || ('login failed: HTTP ' + res.status)));
      return { header: 'Bearer ' + data.token, name: data.username || user };
    });
  }).then(function (a) {
    sessionStorage.setItem(KEY, JSON.stringify(a));
    $('pass').value = '';
    start();
  }).catch(function (e) { status(e.message, 'error'); });
}
function logout() { sessionStorage.removeItem(KEY); showLogin(); status(''); }
function evidenceTable(list) {
  var t = el('table', null, [el('tr', null, [el('th', { text: 'where' }), el('th', { text: 'api' }), el('th', { text: 'snippet' })])]);
  (list || []).forEach(function (e) {
    var where = e.file + (e.line ? ':' + e.line + (e.column !== undefined ? ':' + e.column : '') : '');
    var note = (e.reachable === false ? ' (unreachable)' : '') + (e.via ? ' via ' + e.via : '');
    t.appendChild(el('tr', null, [el('td', { class: 'loc', text: where + note }), el('td', null, [el('code', { text: e.api || '' })]),
      el('td', null, [el('code', { text: e.snippet || '' })])]));
  });
  return t;
}
function detailList(title, items) {
  if (!items || !items.length) return null;
  return el('div', null, [el('b', { text: title + ': ' }), document.createTextNode(items.join(', '))]);
}
function card(item) {
  var id = item.name + '@' + item.version;
  var c = el('div', { class: 'card', 'data-id': id });
  c.appendChild(el('h3', null, [document.createTextNode(item.name + ' '), el('span', { class: 'badge ' + item.state, text: item.state })]));
  c.appendChild(el('div', { class: 'meta', text: (item.baseline ? 'compared ' + item.baseline + ' → ' + item.version : 'new package ' + item.version) +
    ' · automatic: ' + item.automatic + ' · mode: ' + item.mode + ' · ' + new Date(item.updatedAt).toLocaleString() +
    (item.by && item.by !== 'capgate' ? ' · by ' + item.by + (item.reason ? ': ' + item.reason : '') : '') }));
  var gained = item.gained || [];
  c.appendChild(el('div', null, [el('b', { text: 'Gained: ' }), document.createTextNode(gained.length ? gained.join(', ') : 'nothing')]));
  gained.forEach(function (cap) {
    var ev = (item.evidence || {})[cap] || [];
    var d = el('details', { class: 'cap' }, [el('summary', null, [el('b', { text: cap }), document.createTextNode(' — ' + ev.length + ' place' + (ev.length === 1 ? '' : 's'))]), evidenceTable(ev)]);
    d.open = true;
    c.appendChild(d);
  });
  var det = item.details || {};
  var lower = [detailList('New hosts', det.newHosts), detailList('New dependencies', det.newDependencies),
    detailList('Changed install scripts', det.changedInstallScripts), detailList('New API keypaths', det.newKeypaths)].filter(Boolean);
  if (lower.length) c.appendChild(el('details', null, [el('summary', { text: 'Lower-tier changes (' + lower.length + ')' })].concat(lower)));
  if (item.state === 'held' || item.state === 'flagged') {
    var reason = el('input', { type: 'text', maxlength: '1000', placeholder: 'Reason (recorded in the audit log)', 'aria-label': 'reason for ' + id });
    var approve = el('button', { class: 'approve', type: 'button', text: 'Approve' });
    var deny = el('button', { class: 'deny', type: 'button', text: 'Deny' });
    var scopeOn = el('input', { type: 'checkbox', 'aria-label': 'also approve these capabilities for a range' });
    var range = el('input', { type: 'text', value: '^' + item.version.split('.')[0] + '.0.0', size: '10', 'aria-label': 'semver range' });
    var until = el('input', { type: 'date', 'aria-label': 'expires' });
    var scope = el('div', { class: 'scope' }, [el('label', null, [scopeOn, document.createTextNode(' also allow ' + (gained.join(', ') || 'these capabilities') + ' for ' + item.name + ' versions ')]),
      range, el('label', null, [document.createTextNode('until (optional) '), until])]);
    if (!gained.length) scope.hidden = true;
    var send = function (decision) {
      var body = { decision: decision, reason: reason.value };
      if (decision === 'approve' && scopeOn.checked && gained.length) {
        body.scope = { range: range.value, capabilities: gained };
        if (until.value) body.scope.expiresAt = new Date(until.value + 'T23:59:59Z').toISOString();
      }
      approve.disabled = deny.disabled = true;
      status((decision === 'approve' ? 'Approving ' : 'Denying ') + id + '…');
      api('/reviews/' + encodeURIComponent(item.name) + '/' + encodeURIComponent(item.version), { method: 'POST', body: body })
        .then(function () { status((decision === 'approve' ? 'Approved ' : 'Denied ') + id, 'ok'); refresh(); })
        .catch(function (e) { approve.disabled = deny.disabled = false; status(e.message, 'error'); });
    };
    approve.addEventListener('click', function () { send('approve'); });
    deny.addEventListener('click', function () { send('deny'); });
    c.appendChild(el('div', { class: 'actions' }, [reason, approve, deny]));
    c.appendChild(scope);
  }
  return c;
}
function loadQueue() {
  var list = $('queue');
  return api('/reviews?state=' + encodeURIComponent(state)).then(function (data) {
    list.textContent = '';
    if (!data.items.length) list.appendChild(el('p', { class: 'empty', text: 'Nothing ' + (state === 'pending' ? 'waiting for review' : state) + '.' }));
    data.items.forEach(function (item) { list.appendChild(card(item)); });
    var want = decodeURIComponent((location.hash || '').slice(1));
    if (want) Array.prototype.forEach.call(list.querySelectorAll('.card'), function (c) {
      if (c.getAttribute('data-id') === want) { c.classList.add('target'); c.scrollIntoView(); }
    });
  });
}
function loadAudit() {
  return api('/audit?limit=50').then(function (data) {
    var t = $('audit'); t.textContent = '';
    t.appendChild(el('tr', null, ['when', 'who', 'what', 'package', 'why'].map(function (h) { return el('th', { text: h }); })));
    data.entries.forEach(function (e) {
      t.appendChild(el('tr', null, [el('td', { class: 'loc', text: new Date(e.at).toLocaleString() }), el('td', { text: e.by }),
        el('td', { text: e.action }), el('td', { text: e.name + '@' + e.version }), el('td', { text: e.reason || '' })]));
    });
  });
}
function refresh() { return Promise.all([loadQueue(), loadAudit()]).catch(function (e) { if (e.message !== 'unauthenticated' && e.message !== 'not logged in') status(e.message, 'error'); }); }
function start() {
  var a = auth();
  if (!a) { showLogin(); return; }
  $('login').hidden = true; $('app').hidden = false; $('logout').hidden = false; $('who').textContent = a.name;
  status('');
  refresh();
}
document.addEventListener('DOMContentLoaded', function () {
  $('login-form').addEventListener('submit', login);
  $('logout').addEventListener('click', logout);
  $('reload').addEventListener('click', refresh);
  Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (b) {
    b.addEventListener('click', function () {
      state = b.getAttribute('data-state');
      Array.prototype.forEach.call(document.querySelectorAll('.tabs button'), function (o) { o.setAttribute('aria-pressed', String(o === b)); });
      loadQueue().catch(function (e) { status(e.message, 'error'); });
    });
  });
  start();
});
`;

function html(nonce: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>capgate review</title>
<style nonce="${nonce}">${CSS}</style>
</head>
<body>
<header><h1>capgate review</h1><span class="spacer"></span><span id="who"></span><button id="logout" type="button" hidden>Log out</button></header>
<main>
<p id="status" role="status" aria-live="polite"></p>
<section id="login" hidden>
<h2>Log in with your registry account</h2>
<form id="login-form" autocomplete="on">
<input id="user" type="text" name="username" autocomplete="username" placeholder="user name" required aria-label="user name">
<input id="pass" type="password" name="password" autocomplete="current-password" placeholder="password" required aria-label="password">
<button type="submit">Log in</button>
</form>
</section>
<div id="app" hidden>
<section>
<div class="tabs">
<button type="button" data-state="pending" aria-pressed="true">Pending</button>
<button type="button" data-state="flagged" aria-pressed="false">Flagged</button>
<button type="button" data-state="approved" aria-pressed="false">Approved</button>
<button type="button" data-state="denied" aria-pressed="false">Denied</button>
<span class="spacer"></span><button id="reload" type="button">Reload</button>
</div>
<div id="queue"></div>
</section>
<section>
<h2>Recent decisions</h2>
<table id="audit"></table>
</section>
</div>
</main>
<script nonce="${nonce}">${JS}</script>
</body>
</html>
`;
}

/** The Content-Security-Policy of the page: nothing but this origin's API and the inline nonce'd code. */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    // `data:` only for the empty favicon link, which keeps browsers from asking for /favicon.ico.
    "img-src 'self' data:",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** GET /-/capgate/ui/ (and /-/capgate/ui without the slash, redirected). Public: the data needs a login. */
export function createReviewPageRouter(): Router {
  const router = express.Router();
  router.get('/-/capgate/ui', (req, res, next) => {
    if (req.path !== '/-/capgate/ui') {
      next();
      return;
    }
    res.redirect(301, UI_PATH);
  });
  router.get(UI_PATH, (_req, res) => {
    const nonce = randomBytes(16).toString('base64');
    res.setHeader('Content-Security-Policy', pageCsp(nonce));
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(html(nonce));
  });
  return router;
}
