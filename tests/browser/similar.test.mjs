// similar.test.mjs -- GET /api/similar on `doppel serve` (issue 12, the
// pre-filing lookup), over HTTP and from a page of another origin in a real
// browser: the JSON (the shape of `doppel similar --json`, the same best
// candidates), size limits, the per-client rate limit (429 + Retry-After),
// CORS off by default and on for exactly the --cors origin (preflight
// included, with the API token), and no write to the store.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { test, run } from './tap.mjs';
import { makeStore, serve, launch, request, runDoppel } from './lib.mjs';

const TITLE = 'Dark mode toggle does not persist after restart';
const TOKEN = 'similar-api-token-1';

// A page on another origin (another port): where an issue form would live.
function otherOrigin() {
  return new Promise((resolve) => {
    const s = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>issue form</title><p>form</p>');
    });
    s.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${s.address().port}`, close: () => s.close() }));
  });
}

async function setup() {
  const db = makeStore('similar.db');
  const form = await otherOrigin();
  const plain = await serve(db);                                   // defaults: no CORS, 60 a minute
  const cors = await serve(db, ['--cors', form.url, '--similar-rate', '100000']);
  const tokened = await serve(db, ['--cors', form.url, '--similar-rate', '100000'], { DOPPEL_TOKEN: TOKEN });
  const browser = await launch();
  return { db, form, plain, cors, tokened, browser };
}

async function teardown(t) {
  if (!t) return;
  await t.browser.close();
  for (const s of [t.plain, t.cors, t.tokened]) await s.stop();
  t.form.close();
}

const q = (params) => `/api/similar?${new URLSearchParams(params)}`;

test('the answer: the query and its candidates, as `doppel similar --json`, best first', async (t) => {
  const r = await request(t.cors.url, 'GET', q({ title: TITLE, repo: 'acme/widgets', k: 3 }));
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(r.headers['cache-control'], 'no-store');
  const j = r.json;
  assert.equal(j.query.title, TITLE);
  assert.equal(j.query.key, 'this issue');
  assert.deepEqual(j.repo, { id: 1, name: 'acme/widgets' });
  assert.ok(j.candidates.length >= 1 && j.candidates.length <= 3);
  for (const [i, c] of j.candidates.entries()) {
    assert.equal(c.rank, i + 1);
    assert.ok(['duplicate', 'related', 'not_related'].includes(c.relation), c.relation);
    assert.ok(['high', 'medium', 'low'].includes(c.confidence), c.confidence);
    assert.equal(typeof c.probability, 'number');
    assert.equal(c.candidate_item.key, c.candidate);
  }
  assert.equal(j.candidates[0].candidate, '5001');
  assert.equal(j.candidates[0].candidate_item.title, 'Dark mode toggle resets on restart');
  // the command line finds the same best candidate, with the same keys in the answer
  const cli = await runDoppel(['similar', '--db', t.db, '--repo', 'acme/widgets', '--title', TITLE, '-k', '3', '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const c = JSON.parse(cli.stdout);
  assert.equal(c.candidates[0].candidate, j.candidates[0].candidate);
  assert.deepEqual(Object.keys(c).sort(), Object.keys(j).filter((k) => k !== 'repo').sort());
  assert.deepEqual(Object.keys(c.candidates[0]).sort(), Object.keys(j.candidates[0]).sort());
  // by repository id, and k
  const one = await request(t.cors.url, 'GET', q({ title: TITLE, repo: '1', k: 1, body: 'The toggle is lost.' }));
  assert.equal(one.json.candidates.length, 1);
});

test('bad requests: no title, too long, not UTF-8, bad k, unknown or unnamed repository', async (t) => {
  const cases = [
    [q({ body: 'x', repo: '1' }), 400, /title/],
    [q({ title: 'a'.repeat(513), repo: '1' }), 413, /title too long: at most 512 bytes/],
    [q({ title: 'ok', body: 'b'.repeat(3073), repo: '1' }), 413, /body too long: at most 3072 bytes/],
    ['/api/similar?title=%FF%FE&repo=1', 400, /UTF-8/],
    [q({ title: 'ok', repo: '1', k: '0' }), 400, /k wants/],
    [q({ title: 'ok', repo: '1', k: '21' }), 400, /k wants/],
    [q({ title: 'ok', repo: 'no/such' }), 404, /no repository/],
    [q({ title: 'ok' }), 400, /2 repositories: give repo \(HIVE, acme\/widgets\)/],
  ];
  for (const [p, status, msg] of cases) {
    const r = await request(t.cors.url, 'GET', p);
    assert.equal(r.status, status, p);
    assert.match(r.json.error, msg, p);
  }
  assert.equal((await request(t.cors.url, 'GET', q({ title: 'a'.repeat(512), repo: '1' }))).status, 200, 'at the limit');
  const huge = await request(t.cors.url, 'GET', q({ title: 'ok', body: 'x'.repeat(5000), repo: '1' }));
  assert.equal(huge.status, 414, 'a URL past the request line limit');
});

test('the rate limit: a burst of 10, then 429 with Retry-After; other routes go on', async (t) => {
  const statuses = [];
  let limited = null;
  for (let i = 0; i < 11; i++) {
    const r = await request(t.plain.url, 'GET', q({ title: TITLE, repo: '1', k: 1 }));
    statuses.push(r.status);
    if (r.status === 429) limited = r;
  }
  assert.deepEqual(statuses.slice(0, 10), Array(10).fill(200));
  assert.equal(statuses[10], 429, statuses.join(' '));
  const wait = Number(limited.headers['retry-after']);
  assert.ok(wait >= 1 && wait <= 2, limited.headers['retry-after']);
  assert.match(limited.json.error, /too many requests/);
  assert.equal((await request(t.plain.url, 'GET', '/api/pairs')).status, 200);
  await new Promise((r) => setTimeout(r, wait * 1000 + 50));
  assert.equal((await request(t.plain.url, 'GET', q({ title: TITLE, repo: '1', k: 1 }))).status, 200, 'after the wait');
});

// fetch() from a page of the form's origin, in chromium.
async function fetchFrom(t, url, init = {}) {
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  await page.goto(t.form.url);
  const out = await page.evaluate(async ([u, i]) => {
    try {
      const r = await fetch(u, i);
      return { ok: true, status: r.status, retry: r.headers.get('retry-after'), body: await r.json() };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, [url, init]);
  await ctx.close();
  return out;
}

test('CORS off by default: a page of another origin cannot read the answer', async (t) => {
  const r = await fetchFrom(t, `${t.plain.url}${q({ title: TITLE, repo: '1' })}`);
  assert.equal(r.ok, false, JSON.stringify(r));
  assert.match(r.error, /Failed to fetch/);
  const raw = await request(t.plain.url, 'GET', q({ title: TITLE, repo: '1' }), { headers: { Origin: t.form.url } });
  assert.equal(raw.headers['access-control-allow-origin'], undefined);
});

test('CORS with --cors: that origin reads /api/similar, and only that route', async (t) => {
  const r = await fetchFrom(t, `${t.cors.url}${q({ title: TITLE, repo: '1', k: 2 })}`);
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.status, 200);
  assert.equal(r.body.candidates[0].candidate, '5001');
  const err = await fetchFrom(t, `${t.cors.url}${q({ repo: '1' })}`);
  assert.equal(err.status, 400, 'errors are readable by the form too');
  const other = await fetchFrom(t, `${t.cors.url}/api/pairs`);
  assert.equal(other.ok, false, 'other routes stay same-origin');
  const raw = await request(t.cors.url, 'GET', q({ title: TITLE, repo: '1' }), { headers: { Origin: 'https://evil.example' } });
  assert.equal(raw.headers['access-control-allow-origin'], undefined, 'another origin gets nothing');
  assert.match(raw.headers.vary, /Origin/);
});

test('with an API token: the form sends it, the preflight is answered without it', async (t) => {
  const url = `${t.tokened.url}${q({ title: TITLE, repo: '1' })}`;
  const without = await fetchFrom(t, url);
  assert.equal(without.status, 401);
  const withToken = await fetchFrom(t, url, { headers: { Authorization: `Bearer ${TOKEN}` } });   // preflighted
  assert.equal(withToken.ok, true, JSON.stringify(withToken));
  assert.equal(withToken.status, 200);
  const pre = await request(t.tokened.url, 'OPTIONS', '/api/similar',
                            { headers: { Origin: t.form.url, 'Access-Control-Request-Method': 'GET',
                                         'Access-Control-Request-Headers': 'authorization' } });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers['access-control-allow-origin'], t.form.url);
  assert.equal(pre.headers['access-control-allow-headers'], 'Authorization');
});

test('never writes: the store files are unchanged after many lookups', async (t) => {
  const files = [t.db, `${t.db}-wal`].filter((f) => existsSync(f));
  const sums = () => files.map((f) => createHash('sha256').update(readFileSync(f)).digest('hex'));
  const before = sums();
  for (let i = 0; i < 30; i++) {
    const r = await request(t.cors.url, 'GET', q({ title: `${TITLE} ${i}`, body: 'Lost on restart.', repo: '1' }));
    assert.equal(r.status, 200);
  }
  assert.deepEqual(sums(), before);
});

run({ setup, teardown });
