// lib.mjs -- shared helpers of the browser and API tests: build the fixture
// store, start and stop `doppel serve`, raw HTTP requests, launch chromium.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = process.env.ROOT || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DOPPEL = process.env.DOPPEL || path.join(ROOT, 'build/doppel');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const scratch = mkdtempSync(path.join(tmpdir(), 'doppel-web-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
export const tmp = (name) => path.join(scratch, name);

// Builds tests/browser/fixture.c next to the binary under test (same BUILD
// dir, so the same store objects) and writes a fresh store with it.
export function makeStore(name, extraArgs = []) {
  const build = process.env.DOPPEL_BUILD || path.relative(ROOT, path.dirname(DOPPEL)) || '.';
  const bin = path.join(build, 'tests/browser/fixture');
  execFileSync('make', ['-s', `BUILD=${build}`, bin], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  const db = tmp(name);
  execFileSync(path.join(ROOT, bin), [db, '--fixtures', path.join(ROOT, 'tests/fixtures/web'), ...extraArgs],
               { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  return db;
}

// Starts `doppel serve` on a free port; resolves to { url, port, proc, stop }.
// stop() sends SIGTERM and resolves to the exit code.
export function serve(db, args = [], env = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(DOPPEL, ['serve', '--db', db, '--port', '0', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    proc.stderr.on('data', (d) => { err += d; });
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^(http:\/\/\S+?:(\d+))\/\n/);
      if (m) {
        const exited = new Promise((r) => proc.once('exit', (code, sig) => r(code ?? sig)));
        resolve({
          url: m[1], port: Number(m[2]), proc, stderr: () => err,
          stop: async () => { proc.kill('SIGTERM'); return exited; },
        });
      }
    });
    proc.once('exit', (code) => reject(new Error(`doppel serve exited with ${code}: ${err}`)));
  });
}

// Runs the binary to completion: { code, stdout, stderr }.
export function runDoppel(args, env = {}) {
  return new Promise((resolve) => {
    const proc = spawn(DOPPEL, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    proc.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

// One raw HTTP request with full control of headers (fetch forbids Host,
// Origin and friends): resolves to { status, headers, body, json }.
export function request(base, method, urlPath, { headers = {}, body } = {}) {
  const u = new URL(urlPath, base);
  // A body goes with its Content-Length unless the caller says otherwise:
  // node would send it chunked, which the fake GitHub API does not read.
  if (body !== undefined && !Object.keys(headers).some((h) => /^(content-length|transfer-encoding)$/i.test(h)))
    headers = { ...headers, 'Content-Length': Buffer.byteLength(body) };
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers,
                               agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { data += d; });
      res.on('end', () => {
        let json = null;
        try { json = JSON.parse(data); } catch (e) { json = null; }
        resolve({ status: res.statusCode, headers: res.headers, body: data, json });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export async function launch() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
           '--disable-sync', '--no-first-run'],
  });
}

// The setup of the page tests: the fixture store and one of 250 pairs, each
// served (srv, big), chromium, and a context (ctxOptions) that may use the
// clipboard on srv. Undo with stopAll.
export async function startPages(prefix, ctxOptions = {}) {
  const srv = await serve(makeStore(`${prefix}.db`));
  const big = await serve(makeStore(`${prefix}-big.db`, ['--pairs', '250']));
  const browser = await launch();
  const ctx = await browser.newContext(ctxOptions);
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: srv.url });
  return { srv, big, browser, ctx, base: srv.url };
}

// Stops what a setup started: any of t.browser, t.srv, t.big.
export async function stopAll(t) {
  if (!t) return;
  if (t.browser) await t.browser.close();
  if (t.srv) await t.srv.stop();
  if (t.big) await t.big.stop();
}

// A page of ctx at `viewport` that records everything that must never
// happen: page.bad (dialogs, uncaught errors, console errors) and
// window.__csp (CSP violations).
export async function watchedPage(ctx, viewport) {
  const page = await ctx.newPage();
  await page.setViewportSize(viewport);
  page.bad = [];
  page.on('dialog', (d) => { page.bad.push(`dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => page.bad.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.bad.push(`console: ${m.text()}`); });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return page;
}

// ---- waiting on the page ---------------------------------------------------
// Tests wait on the page's own state, never on time.

// Polls fn until it returns a truthy value (which it returns); fails with
// `what` after `timeout` ms.
export async function until(fn, what, timeout = 8000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Until the keys pressed so far have acted and no pair is loading (the page
// marks <html data-keys="busy|idle">).
export const idle = (page) => until(() => page.evaluate(() => document.documentElement.dataset.keys === 'idle' &&
  !document.querySelector('#view-pair').classList.contains('loading')), 'keys done');

// The id of the pair on screen (0: none).
export const shownPair = (page) => page.evaluate(() => {
  const m = location.pathname.match(/^\/pair\/(\d+)$/);
  return m && document.querySelector('#q-link').textContent ? Number(m[1]) : 0;
});

export async function openPair(page, base, id, qs = '') {
  await page.goto(`${base}/pair/${id}${qs}`);
  await until(async () => (await shownPair(page)) === id && (await page.locator('#pane-q .item-title').count()) > 0, `pair ${id}`);
  await idle(page);
}

export async function openIndex(page, base) {
  await page.goto(`${base}/`);
  await until(async () => (await page.locator('#pairs tbody tr.sel').count()) === 1, 'index');
  await idle(page);
}

// ---- the fake GitHub API (tests/sync/fake_github.py) -------------------------

// The GitHub items of the fixture store (tests/browser/fixture.c, with
// --apply), as the fake serves them: the numbers and states apply reads.
export const FIXTURE_ISSUES = [
  [4606, 'closed', 'completed', true], [4700, 'closed', 'not_planned'], [5000, 'open'], [5001, 'open'],
  [5002, 'closed', 'duplicate'], [5003, 'open'], [5004, 'open', null, true], [5693, 'open'], [6001, 'open'],
  [6002, 'open'],
];

// Starts tests/sync/fake_github.py serving acme/widgets with `issues`
// ([number, state, state_reason, is_pr]) and the write endpoints, with
// `token` required; resolves to { url, stop, get(path) -> JSON }.
export async function fakeGithub(name, token, issues = FIXTURE_ISSUES) {
  const { writeFileSync, readFileSync, existsSync } = await import('node:fs');
  const jsonl = tmp(`${name}.jsonl`), portFile = tmp(`${name}.port`);
  const at = '2023-02-01T00:00:00Z';
  writeFileSync(jsonl, issues.map(([number, st, reason, pr]) => JSON.stringify({
    id: 1e9 + number, number, title: `Issue ${number}`, user: { login: `user${number % 7}` },
    labels: [{ name: 'bug', color: 'd73a4a' }], state: st, state_reason: reason || null, comments: 0,
    created_at: '2023-01-01T00:00:00Z', updated_at: at, closed_at: st === 'closed' ? at : null, body: 'Body.',
    html_url: `https://github.com/acme/widgets/issues/${number}`, reactions: { total_count: 0 },
    ...(pr ? { pull_request: { url: `https://api.github.com/repos/acme/widgets/pulls/${number}` } } : {}),
  })).join('\n') + '\n');
  const proc = spawn('python3', [path.join(ROOT, 'tests/sync/fake_github.py'), '--port-file', portFile, '--jsonl', jsonl,
                                 '--token', token, '--realtime'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((r) => proc.once('exit', r));
  await until(() => existsSync(portFile) && readFileSync(portFile, 'utf8').trim(), 'the fake GitHub API', 15000);
  const url = `http://127.0.0.1:${readFileSync(portFile, 'utf8').trim()}`;
  const get = async (p) => (await request(url, 'GET', p)).json;
  const control = (what, body) => request(url, 'POST', `/_control/${what}`, { body: JSON.stringify(body) });
  return { url, get, control, stop: async () => { proc.kill('SIGTERM'); return exited; } };
}

// ---- accessibility ---------------------------------------------------------------

// axe-core rules: every rule tagged wcag2a, wcag2aa, wcag21a, wcag21aa,
// wcag22aa or best-practice. axe is injected from node_modules (the page's
// CSP forbids it: the page's context must bypass CSP).
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

// Runs axe on the page as it is; returns "view: rule (impact) targets" lines.
export async function axe(page, view) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const r = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), AXE_TAGS);
  return r.violations.map((v) => `${view}: ${v.id} (${v.impact}) ${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join(', ')}`);
}
