// lib.mjs -- shared helpers of the browser and API tests: build the fixture
// store, start and stop `doppel serve`, raw HTTP requests, launch chromium.
import { spawn, execFileSync } from 'node:child_process';
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
