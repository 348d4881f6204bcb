// api.test.mjs -- `doppel serve` over raw HTTP: routes, status codes,
// content types, security headers, size limits, tokens, cross-site and
// DNS-rebinding refusals, graceful shutdown.
import assert from 'node:assert/strict';
import { test, run } from './tap.mjs';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeStore, serve, stopAll, request, runDoppel, tmp } from './lib.mjs';

const JSON_POST = { 'Content-Type': 'application/json', 'X-Doppel': '1' };

async function setup() {
  const db = makeStore('api.db');
  const srv = await serve(db);
  return { db, srv, base: srv.url };
}


const get = (t, p, headers) => request(t.base, 'GET', p, { headers });
const post = (t, p, body, headers = JSON_POST) => request(t.base, 'POST', p, { headers, body });

function securityHeaders(r) {
  const csp = r.headers['content-security-policy'] || '';
  for (const d of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                   "object-src 'none'", "base-uri 'none'"])
    assert.ok(csp.includes(d), `CSP has ${d}: ${csp}`);
  assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), csp);
  assert.equal(r.headers['x-content-type-options'], 'nosniff');
  assert.equal(r.headers['referrer-policy'], 'no-referrer');
  assert.equal(r.headers['x-frame-options'], 'DENY');
}

test('GET /api/pairs lists pairs by value with counts', async (t) => {
  const r = await get(t, '/api/pairs');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(r.headers['cache-control'], 'no-store');
  securityHeaders(r);
  assert.equal(r.json.total, 7);
  assert.equal(r.json.reviewed, 1);
  const v = r.json.pairs.map((p) => p.value);
  assert.deepEqual(v, [...v].sort((a, b) => b - a));
  const p = r.json.pairs[0];
  assert.equal(p.value, 2.289);
  assert.equal(p.query_item.display, '#5693');
  assert.equal(p.candidate_item.kind, 'pull_request');
  assert.equal(p.candidate_item.state_reason, 'completed');
  assert.equal(p.query, p.query_item.key, 'the pair names its items by key, as `doppel pairs --json` does');
  assert.equal(p.reasoning, undefined, 'list rows leave the texts out');
  const jira = r.json.pairs.find((x) => x.query === 'HIVE-123');
  assert.equal(jira.query_item.display, 'HIVE-123');
});

test('filters, sort and paging', async (t) => {
  const dup = await get(t, '/api/pairs?relation=duplicate');
  assert.equal(dup.json.total, 4);
  assert.ok(dup.json.pairs.every((p) => p.relation === 'duplicate'));
  assert.equal((await get(t, '/api/pairs?reviewed=1')).json.total, 1);
  assert.equal((await get(t, '/api/pairs?reviewed=0')).json.total, 6);
  assert.equal((await get(t, '/api/pairs?confidence=high')).json.total, 2);
  assert.equal((await get(t, '/api/pairs?cstate=open')).json.total, 2);
  assert.equal((await get(t, '/api/pairs?label=ui')).json.total, 3);
  assert.equal((await get(t, '/api/pairs?text=theme')).json.total, 1);
  assert.equal((await get(t, '/api/pairs?repo=2')).json.total, 1);
  const page = await get(t, '/api/pairs?offset=2&limit=2');
  assert.equal(page.json.pairs.length, 2);
  assert.equal(page.json.total, 7);
  assert.equal(page.json.pairs[0].value, 1.512);
  // keyset paging: the cursor of a full page gives the same next page as the offset
  const first = await get(t, '/api/pairs?limit=2');
  assert.equal(typeof first.json.next, 'string');
  const after = await get(t, `/api/pairs?offset=2&limit=2&after=${encodeURIComponent(first.json.next)}`);
  assert.deepEqual(after.json.pairs.map((p) => p.id), page.json.pairs.map((p) => p.id));
  assert.equal(after.json.offset, 2);
  assert.equal((await get(t, '/api/pairs?limit=100')).json.next, null);
  // and back: the cursor of a page's first row gives the page before it
  assert.equal(first.json.prev, null);
  assert.equal(typeof after.json.prev, 'string');
  const third = await get(t, `/api/pairs?offset=4&limit=2&after=${encodeURIComponent(after.json.next)}`);
  const back = await get(t, `/api/pairs?offset=2&limit=2&before=${encodeURIComponent(third.json.prev)}`);
  assert.deepEqual(back.json.pairs.map((p) => p.id), page.json.pairs.map((p) => p.id));
  assert.equal(back.json.next, page.json.next);
  const start = await get(t, `/api/pairs?limit=2&before=${encodeURIComponent(back.json.prev)}`);
  assert.deepEqual(start.json.pairs.map((p) => p.id), first.json.pairs.map((p) => p.id));
  const short = await get(t, `/api/pairs?limit=3&before=${encodeURIComponent(back.json.prev)}`);
  assert.equal(short.json.pairs.length, 2);   // the start reached: no page before it
  assert.equal(short.json.prev, null);
  const byProb = (await get(t, '/api/pairs?sort=prob')).json.pairs.map((p) => p.probability);
  assert.deepEqual(byProb, [...byProb].sort((a, b) => b - a));
});

test('bad filter values are 400', async (t) => {
  for (const q of ['relation=maybe', 'confidence=huge', 'qstate=x', 'reviewed=2', 'sort=random', 'limit=0',
                   'limit=501', 'limit=abc', 'offset=-1', 'repo=abc', 'after=v1', 'sort=prob&after=v1_2',
                   'before=v1', 'sort=prob&before=v1_2', 'after=v1_2&before=v1_3']) {
    const r = await get(t, `/api/pairs?${q}`);
    assert.equal(r.status, 400, q);
    assert.ok(r.json.error, q);
  }
});

test('one pair: both items, reasoning, neighbours in the filter', async (t) => {
  const r = await get(t, '/api/pairs/1');
  assert.equal(r.status, 200);
  assert.equal(r.json.pair.suggested_comment.split('\n').length, 2);
  assert.ok(Array.isArray(r.json.pair.reasoning), 'reasoning is an array of sentences, as in the CLI');
  assert.match(r.json.pair.reasoning.join('\n'), /AttributeError/);
  assert.equal(r.json.query_item.author, 'alice');
  const q = r.json.query_item;
  assert.deepEqual(q.labels.map((l) => q.label_colors[l]), ['d73a4a', 'b60205', 'ededed']);
  assert.equal(r.json.candidate_item.label_colors.evil, null, 'hostile colour dropped');
  assert.match(r.json.query_item.body_html, /<table>/);
  assert.equal(r.json.prev, null);
  assert.equal(r.json.next, 2);
  const f = await get(t, '/api/pairs/2?relation=duplicate');
  assert.equal(f.json.prev, null);
  assert.equal(f.json.next, 3);
  assert.equal((await get(t, '/api/pairs/3?relation=duplicate')).json.next, 5);
});

test('items carry their comments (at most 200), rendered per tracker', async (t) => {
  const r = await get(t, '/api/pairs/1');
  const list = r.json.query_item.comment_list;
  assert.equal(r.json.query_item.comment_total, 2);
  assert.deepEqual(list.map((c) => c.author), ['bob', 'mallory']);
  assert.equal(list[0].created_at, '2023-04-12T00:00:00Z');
  assert.match(list[0].body_html, /<a href="https:\/\/github.com\/acme\/widgets\/issues\/4606">#4606<\/a>/);
  assert.doesNotMatch(list[1].body_html, /<script|<img|href="javascript/);
  assert.deepEqual(r.json.candidate_item.comment_list, []);
  const many = await get(t, '/api/items/1/5003');
  assert.equal(many.json.item.comment_list.length, 200);
  assert.equal(many.json.item.comment_total, 205);
  assert.equal(many.json.item.comment_list[199].body_html, '<p>Comment number 200 on plugins.</p>\n');
  const jira = await get(t, '/api/items/2/HIVE-123');
  assert.match(jira.json.item.body_html, /<h2>Steps to reproduce<\/h2>/);
  assert.match(jira.json.item.body_html, /<a href="\/item\/2\/HIVE-99">HIVE-99<\/a>/);
  assert.doesNotMatch(jira.json.item.body_html, /<script|<img|href="(javascript|data)/);
  assert.match(jira.json.item.comment_list[0].body_html, /<li>step one<\/li>/);
});

test('bad ids are 404', async (t) => {
  for (const p of ['/api/pairs/99999', '/api/pairs/0', '/api/pairs/abc', '/api/pairs/-1', '/api/pairs/1x',
                   '/api/pairs/99999999999999999999999', '/api/items/1/nope', '/api/items/99/5693',
                   '/api/items/abc/5693', '/api/nothing', '/api/pairs/1/other']) {
    const r = await get(t, p);
    assert.equal(r.status, 404, p);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8', p);
  }
  const v = await post(t, '/api/pairs/99999/verdict', '{"verdict":"duplicate"}');
  assert.equal(v.status, 404);
});

test('one item', async (t) => {
  const r = await get(t, '/api/items/2/HIVE-99');
  assert.equal(r.status, 200);
  assert.equal(r.json.item.display, 'HIVE-99');
  assert.equal(r.json.item.url, 'https://issues.apache.org/jira/browse/HIVE-99');
  assert.equal(r.json.repo.kind, 'jira');
});

test('record, change and remove a verdict', async (t) => {
  let r = await post(t, '/api/pairs/4/verdict', '{"verdict":"related"}');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { id: 4, verdict: 'related' });
  assert.equal((await get(t, '/api/pairs/4')).json.pair.verdict, 'related');
  r = await post(t, '/api/pairs/4/verdict', '{"verdict":"not_related"}', { ...JSON_POST, 'Content-Type': 'application/json; charset=utf-8' });
  assert.equal(r.status, 200);
  assert.equal((await get(t, '/api/pairs?reviewed=1')).json.total, 2);
  r = await post(t, '/api/pairs/4/verdict', '{"verdict":null}');
  assert.equal(r.status, 200);
  assert.equal((await get(t, '/api/pairs/4')).json.pair.verdict, null);
});

test('malformed or invalid verdict bodies are 400', async (t) => {
  for (const b of ['', '{', 'null', '[]', '{"verdict":"maybe"}', '{"verdict":1}', '{}', '{"verdict":"duplicate","verdict":"related"}',
                   '\u0000']) {
    const r = await post(t, '/api/pairs/1/verdict', b);
    assert.equal(r.status, 400, JSON.stringify(b));
  }
  assert.equal((await get(t, '/api/pairs/1')).json.pair.verdict, null, 'nothing was recorded');
});

test('oversized requests are 413', async (t) => {
  const big = JSON.stringify({ verdict: 'duplicate', pad: 'x'.repeat(10000) });
  let r = await post(t, '/api/pairs/1/verdict', big);
  assert.equal(r.status, 413);
  r = await post(t, '/api/pairs/1/verdict', big, { ...JSON_POST, 'Transfer-Encoding': 'chunked' });
  assert.equal(r.status, 413, 'chunked, no length announced');
  r = await get(t, `/api/pairs?text=${'a'.repeat(100000)}`);
  assert.ok(r.status === 414 || r.status === 431 || r.status === 413, `huge URL: ${r.status}`);
  assert.equal((await get(t, '/api/pairs/1')).json.pair.verdict, null);
});

test('wrong methods are 405 with Allow', async (t) => {
  let r = await request(t.base, 'DELETE', '/api/pairs/1');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, HEAD');
  r = await get(t, '/api/pairs/1/verdict');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'POST');
  r = await request(t.base, 'PUT', '/api/pairs/1/verdict', { headers: JSON_POST, body: '{"verdict":"duplicate"}' });
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'POST');
  r = await post(t, '/api/pairs', '{}');
  assert.equal(r.status, 405);
  r = await post(t, '/', '{}');
  assert.equal(r.status, 405);
  assert.equal(r.headers.allow, 'GET, HEAD');
});

test('cross-site POSTs are refused with 403', async (t) => {
  const body = '{"verdict":"duplicate"}';
  const cases = [
    { ...JSON_POST, Origin: 'http://evil.example' },
    { ...JSON_POST, Origin: 'null' },
    { ...JSON_POST, 'Sec-Fetch-Site': 'cross-site' },
    { ...JSON_POST, 'Sec-Fetch-Site': 'same-site' },
    { 'Content-Type': 'application/json' },                       // no X-Doppel
  ];
  for (const h of cases) assert.equal((await post(t, '/api/pairs/1/verdict', body, h)).status, 403, JSON.stringify(h));
  const form = await post(t, '/api/pairs/1/verdict', 'verdict=duplicate',
                          { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Doppel': '1' });
  assert.equal(form.status, 415);
  const ok = await post(t, '/api/pairs/1/verdict', '{"verdict":null}',
                        { ...JSON_POST, Origin: t.base, 'Sec-Fetch-Site': 'same-origin' });
  assert.equal(ok.status, 200, 'same origin passes');
  assert.equal((await get(t, '/api/pairs/1')).json.pair.verdict, null);
});

test('a foreign Host header is refused (DNS rebinding)', async (t) => {
  let r = await get(t, '/api/pairs', { Host: `evil.example:${t.srv.port}` });
  assert.equal(r.status, 403);
  r = await get(t, '/', { Host: 'evil.example' });
  assert.equal(r.status, 403);
  r = await get(t, '/api/pairs', { Host: `localhost:${t.srv.port}` });
  assert.equal(r.status, 200);
});

test('the page, deep links and assets: types and headers', async (t) => {
  for (const p of ['/', '/pair/1', '/pair/99999', '/item/1/5693', '/?relation=duplicate']) {
    const r = await get(t, p);
    assert.equal(r.status, 200, p);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8', p);
    assert.match(r.body, /<script src="\/static\/app.js" defer><\/script>/);
    securityHeaders(r);
  }
  assert.ok(!(await get(t, '/')).body.match(/<script>|style=/), 'no inline script or style in the page');
  const js = await get(t, '/static/app.js');
  assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
  assert.equal((await get(t, '/static/app.css')).headers['content-type'], 'text/css; charset=utf-8');
  for (const p of ['/static/nope.js', '/pair/abc', '/pair/', '/etc/passwd', '/static/../web.h', '/api'])
    assert.equal((await get(t, p)).status, 404, p);
  const head = await request(t.base, 'HEAD', '/');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('token: required on the API, accepted as Bearer or cookie', async (t) => {
  const token = 'tok-1234567890abcdef';
  const srv = await serve(t.db, ['--token', token]);
  try {
    const base = srv.url;
    assert.equal((await request(base, 'GET', '/api/pairs')).status, 401);
    assert.equal((await request(base, 'GET', '/api/pairs', { headers: { Authorization: 'Bearer wrong-token-123' } })).status, 401);
    assert.equal((await request(base, 'GET', '/api/pairs', { headers: { Authorization: `Bearer ${token}x` } })).status, 401);
    assert.equal((await request(base, 'POST', '/api/pairs/1/verdict', { headers: JSON_POST, body: '{"verdict":"duplicate"}' })).status, 401);
    assert.equal((await request(base, 'GET', '/api/pairs', { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    assert.equal((await request(base, 'GET', '/')).status, 200, 'the page itself is public');
    assert.equal((await request(base, 'GET', '/?token=wrong-token-123')).status, 401);
    const login = await request(base, 'GET', `/pair/1?token=${token}`);
    assert.equal(login.status, 303);
    assert.equal(login.headers.location, '/pair/1');
    const cookie = login.headers['set-cookie'][0];
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const c = cookie.split(';')[0];
    assert.equal((await request(base, 'GET', '/api/pairs', { headers: { Cookie: c } })).status, 200);
    assert.equal((await request(base, 'GET', '/api/pairs', { headers: { Cookie: 'doppel_token=nope' } })).status, 401);
  } finally {
    await srv.stop();
  }
  const env = await serve(t.db, [], { DOPPEL_TOKEN: token });
  try {
    assert.equal((await request(env.url, 'GET', '/api/pairs')).status, 401, 'DOPPEL_TOKEN is honoured');
  } finally {
    await env.stop();
  }
});

test('a non-loopback bind needs a token; bad options are usage errors', async (t) => {
  let r = await runDoppel(['serve', '--db', t.db, '--bind', '0.0.0.0', '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--token/);
  r = await runDoppel(['serve', '--db', t.db, '--port', '0', '--token', 'short']);
  assert.equal(r.code, 1);
  r = await runDoppel(['serve', '--db', t.db, '--port', '70000']);
  assert.equal(r.code, 2);
  r = await runDoppel(['serve', '--bogus']);
  assert.equal(r.code, 2);
  r = await runDoppel(['serve', '--db', '/nonexistent/doppel.db', '--port', '0']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no such store/);
  // --write needs a GitHub token (none here: no variable, a `gh` that has none)
  const bin = tmp('nogh');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'gh'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const noToken = { GITHUB_TOKEN: '', GH_TOKEN: '', PATH: `${bin}:${process.env.PATH}` };
  r = await runDoppel(['serve', '--db', t.db, '--port', '0', '--write'], noToken);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /--write needs a token: \$GITHUB_TOKEN, \$GH_TOKEN or `gh auth token`/);
  for (const args of [['--api-url', 'http://127.0.0.1:9'], ['--similar-rate', '0'], ['--label', ''], ['--cors']]) {
    r = await runDoppel(['serve', '--db', t.db, '--port', '0', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
  }
  r = await runDoppel(['serve', '--db', t.db, '--port', '0', '--cors', 'forms.example.org']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /CORS origin must be scheme:\/\/host\[:port\]/);
  const srv = await serve(t.db, ['--bind', '0.0.0.0', '--token', 'tok-1234567890abcdef']);
  const code = await srv.stop();
  assert.equal(code, 0);
});

test('SIGTERM stops the server cleanly; verdicts made before are kept', async (t) => {
  const srv = await serve(t.db);
  const r = await request(srv.url, 'POST', '/api/pairs/5/verdict', { headers: JSON_POST, body: '{"verdict":"duplicate"}' });
  assert.equal(r.status, 200);
  assert.equal(await srv.stop(), 0);
  assert.match(srv.stderr(), /finishing requests/);
  const again = await serve(t.db);
  try {
    assert.equal((await request(again.url, 'GET', '/api/pairs/5')).json.pair.verdict, 'duplicate');
  } finally {
    await again.stop();
  }
});

run({ setup, teardown: stopAll });
