// apply.test.mjs -- the Apply view (issue 12, "from the page"): a verdict
// queued from the pair page (`a` and its button), the plan shown with the
// item to be closed and where the comment goes, read-only without --write,
// one confirm applying it against the fake GitHub API
// (tests/sync/fake_github.py), a stale plan refused with nothing sent, one
// run at a time, the cross-site protections, and the token kept out of
// everything the browser sees.
import assert from 'node:assert/strict';
import { test, run } from './tap.mjs';
import { makeStore, serve, launch, watchedPage, until, idle, openPair, request, fakeGithub, runDoppel, axe } from './lib.mjs';

const SECRET = 'ghp_webApplyT0kenNeverInTheBrowser12345';
const JSON_POST = { 'Content-Type': 'application/json', 'X-Doppel': '1' };
const PAIR = 7;              // #6002 <-> #6001: two open issues; #6002 (newer) is closed into #6001
const OTHER = 2;             // #5000 <-> #4700

async function setup() {
  const fake = await fakeGithub('gh', SECRET);
  const db = makeStore('apply.db', ['--apply']);
  const srv = await serve(db, ['--write', '--api-url', fake.url], { GITHUB_TOKEN: SECRET, DOPPEL_WRITE_GAP_MS: '0' });
  const rodb = makeStore('apply-ro.db', ['--apply']);
  const ro = await serve(rodb, [], { GITHUB_TOKEN: SECRET });
  const browser = await launch();
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await watchedPage(ctx, { width: 1400, height: 900 });
  return { fake, db, srv, ro, browser, ctx, page, base: srv.url };
}

async function teardown(t) {
  if (!t) return;
  await t.browser.close();
  await t.srv.stop();
  await t.ro.stop();
  await t.fake.stop();
}

const post = (base, p, body, headers = JSON_POST) => request(base, 'POST', p, { headers, body });
const toastText = (page) => page.locator('#toast').textContent();
const writes = async (t) => (await t.fake.get('/_writes')).filter((w) => w.method !== 'GET');

async function openApply(page, base) {
  await page.goto(`${base}/apply`);
  await until(async () => (await page.evaluate(() => document.title)).startsWith('Apply on GitHub') &&
    (await page.locator('#apply-text').textContent()) !== '', 'the Apply view');
}

test('a on a pair without a verdict queues nothing and says why', async ({ page, base }) => {
  await openPair(page, base, PAIR);
  await page.keyboard.press('a');
  await idle(page);
  assert.match(await toastText(page), /no verdict/);
  assert.equal(await page.locator('[data-action="queue"]').getAttribute('aria-pressed'), 'false');
  assert.equal((await request(base, 'GET', `/api/pairs/${PAIR}`)).json.pair.queued, false);
});

test('a verdict is queued from the pair page: the key a and the button', async ({ page, base }) => {
  await openPair(page, base, PAIR);
  await page.keyboard.press('d');   // the last pair: the verdict is saved and the page stays
  await idle(page);
  assert.equal((await request(base, 'GET', `/api/pairs/${PAIR}`)).json.pair.verdict, 'duplicate');
  await page.keyboard.press('a');
  await idle(page);
  assert.match(await toastText(page), /queued for GitHub: duplicate/);
  const btn = page.locator('[data-action="queue"]');
  assert.equal(await btn.getAttribute('aria-pressed'), 'true');
  assert.equal((await request(base, 'GET', `/api/pairs/${PAIR}`)).json.pair.queued, true);
  await page.keyboard.press('a');   // again: out of the queue
  await idle(page);
  assert.equal(await btn.getAttribute('aria-pressed'), 'false');
  assert.equal((await request(base, 'GET', `/api/pairs/${PAIR}`)).json.pair.queued, false);
  await btn.click();
  await until(async () => (await btn.getAttribute('aria-pressed')) === 'true', 'queued by the button');
  assert.equal((await request(base, 'GET', `/api/pairs/${PAIR}`)).json.pair.queued, true);
  await openPair(page, base, PAIR);   // a fresh load shows it queued
  assert.equal(await btn.getAttribute('aria-pressed'), 'true');
  // the help overlay names the keys, in its group of more keys
  await page.keyboard.press('?');
  const more = await page.locator('#help table[aria-labelledby="help-more"]').textContent();
  assert.match(more, /a\s*queue the pair's verdict for GitHub/);
  assert.match(more, /g\s*a\s*go to the Apply view/);
  await page.keyboard.press('Escape');
  assert.deepEqual(page.bad, []);
});

test('the Apply view shows the exact plan: the item closed, where the comment goes, the label', async (t) => {
  const { page, base } = t;
  await openPair(page, base, PAIR);
  await page.keyboard.press('g');
  await page.keyboard.press('a');
  await until(async () => (await page.evaluate(() => location.pathname)) === '/apply' &&
    (await page.locator('.apply-unit').count()) === 1, 'g a opens the Apply view');
  const unit = page.locator('.apply-unit');
  assert.match(await unit.locator('.unit-title').textContent(), /#6002 ↔ #6001\s*duplicate\s*to do/);
  assert.match(await unit.locator('.unit-why').textContent(), /Keep #6001, act on #6002: #6001 is older/);
  const steps = await unit.locator('.step .step-what').allTextContents();
  assert.deepEqual(steps, ['Comment on #6002', 'Close #6002 as a duplicate of #6001', 'Add label duplicate to #6002']);
  const requests = await unit.locator('.step .request').allTextContents();
  assert.equal(requests[0], 'POST /repos/acme/widgets/issues/6002/comments');
  assert.equal(requests[1], 'PATCH /repos/acme/widgets/issues/6002 {"state":"closed","state_reason":"duplicate"}');
  assert.equal(requests[2], 'POST /repos/acme/widgets/issues/6002/labels {"labels":["duplicate"]}');
  // the comment in full, as it will read on GitHub
  assert.equal(await unit.locator('.step-comment pre.comment').textContent(),
               'Duplicate of #6001\n\n<!-- doppel:pair=6001:6002 v1 -->');
  assert.equal(await unit.locator('.step-comment a').getAttribute('href'), 'https://github.com/acme/widgets/issues/6002');
  assert.match(await page.locator('#apply-summary').textContent(), /1 pair to do: 3 requests \(1 comment, 1 closure, 1 label\)/);
  assert.match(await page.locator('#apply-mode').textContent(), /Writing to GitHub is on/);
  const go = page.locator('#apply-go');
  assert.equal(await go.isDisabled(), false);
  assert.equal(await go.textContent(), 'Apply 3 requests on GitHub');
  // the plan as `doppel apply --queued` prints it: the same requests
  const text = await page.locator('#apply-text').textContent();
  assert.match(text, /\+ close #6002 as a duplicate of #6001\n\s+PATCH \/repos\/acme\/widgets\/issues\/6002/);
  const cli = await runDoppel(['apply', '--queued', '--repo', 'acme/widgets', '--db', t.db]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.ok(cli.stdout.startsWith(text), `the CLI's plan starts with the page's:\n${cli.stdout}\n---\n${text}`);
  assert.deepEqual(await writes(t), [], 'showing the plan sends nothing');
  assert.deepEqual(page.bad, []);
});

test('a stale plan is refused with 409 and nothing is sent; the view shows the new plan', async (t) => {
  const { page, base } = t;
  await openApply(page, base);
  const shown = await page.evaluate(() => document.querySelector('#apply-go-note').textContent);
  // meanwhile (another tab, the command line): a second pair is judged and queued
  assert.equal((await post(base, `/api/pairs/${OTHER}/verdict`, '{"verdict":"duplicate"}')).status, 200);
  assert.equal((await post(base, `/api/pairs/${OTHER}/queue`, '{}')).status, 200);
  await page.locator('#apply-go').click();
  await until(async () => !(await page.locator('#error').isHidden()), 'the refusal');
  assert.match(await page.locator('#error').textContent(), /the plan changed since it was shown/);
  await until(async () => (await page.locator('.apply-unit').count()) === 2, 'the new plan');
  assert.notEqual(await page.locator('#apply-go-note').textContent(), shown, 'a new hash');
  assert.equal((await writes(t)).length, 0, 'nothing was sent');
  // the browser logs the refused request itself; nothing else may appear
  assert.deepEqual(page.bad.filter((b) => !/status of 409 \(Conflict\)/.test(b)), []);
  page.bad.length = 0;
  // an altered confirm is refused the same way
  const r = await post(base, '/api/apply', JSON.stringify({ repo: 1, confirm: '0'.repeat(32) }));
  assert.equal(r.status, 409);
  assert.equal((await writes(t)).length, 0);
  // the second pair leaves the queue from the view
  await page.locator('.apply-unit[data-key="4700:5000"] button[data-action="unqueue"]').click();
  await until(async () => (await page.locator('.apply-unit').count()) === 1, 'one pair left');
  assert.equal((await request(base, 'GET', `/api/pairs/${OTHER}`)).json.pair.queued, false);
  assert.deepEqual(page.bad, []);
});

test('POST /api/apply keeps the cross-site protections and checks its body', async (t) => {
  const { base } = t;
  const hash = (await request(base, 'GET', '/api/apply')).json.hash;
  const body = JSON.stringify({ repo: 1, confirm: hash });
  const refused = [
    [{ 'Content-Type': 'application/json' }, 403],                              // no X-Doppel
    [{ ...JSON_POST, Origin: 'http://evil.example' }, 403],
    [{ ...JSON_POST, 'Sec-Fetch-Site': 'cross-site' }, 403],
    [{ 'Content-Type': 'text/plain', 'X-Doppel': '1' }, 415],
  ];
  for (const [h, status] of refused) assert.equal((await post(base, '/api/apply', body, h)).status, status, JSON.stringify(h));
  for (const b of ['{}', '{"repo":1}', `{"repo":"1","confirm":"${hash}"}`, `{"repo":1,"confirm":"${hash.toUpperCase()}"}`, 'nope'])
    assert.equal((await post(base, '/api/apply', b)).status, 400, b);
  assert.equal((await post(base, '/api/apply', JSON.stringify({ repo: 99, confirm: hash }))).status, 404);
  assert.equal((await request(base, 'PUT', '/api/apply', { headers: JSON_POST, body })).headers.allow, 'GET, HEAD, POST');
  assert.equal((await writes(t)).length, 0);
});

test('one confirm applies the plan on the fake GitHub API, exactly once; one run at a time', async (t) => {
  const { page, base, fake } = t;
  await openApply(page, base);
  assert.equal(await page.locator('.apply-unit').count(), 1);
  // a run long enough to meet a second confirm: each write waits 1 s on the fake (the control
  // must arrive with its Content-Length; sent chunked it was ignored and the run sometimes ended
  // before the second POST, which then met a changed plan, not a running one)
  assert.equal((await fake.control('delay', { seconds: 1 })).status, 200);
  const hash = (await request(base, 'GET', '/api/apply')).json.hash;
  await page.locator('#apply-go').click();
  await until(async () => (await request(base, 'GET', '/api/apply/run')).json.run.state === 'running', 'the run');
  const again = await post(base, '/api/apply', JSON.stringify({ repo: 1, confirm: hash }));
  assert.equal(again.status, 409);
  assert.match(again.json.error, /already running/,
               `the run was ${JSON.stringify((await request(base, 'GET', '/api/apply/run')).json.run)}`);
  await until(async () => (await page.locator('#apply-run').getAttribute('data-state')) === 'done', 'the run done', 60000);
  await fake.control('delay', { seconds: 0 });
  const events = await page.locator('#apply-events li').allTextContents();
  assert.deepEqual(events.map((e) => e.replace(/: HTTP.*/, '')),
                   ['6001:6002 comment #6002', '6001:6002 close #6002', '6001:6002 label #6002']);
  assert.match(await page.locator('#apply-run-state').textContent(), /Done: 3 of 3 requests reported · 3 writes sent/);
  // on the server: exactly the planned writes, once each
  const w = await writes(t);
  assert.deepEqual(w.map((x) => `${x.method} ${x.path} ${x.status}`), [
    'POST /repos/acme/widgets/issues/6002/comments 201',
    'PATCH /repos/acme/widgets/issues/6002 200',
    'POST /repos/acme/widgets/issues/6002/labels 200',
  ]);
  const dump = await fake.get('/_dump');
  const issue = dump.issues.find((i) => i.number === 6002);
  assert.equal(issue.state, 'closed');
  assert.equal(issue.state_reason, 'duplicate');
  assert.ok(issue.labels.includes('duplicate'), JSON.stringify(issue.labels));
  assert.equal(dump.issues.find((i) => i.number === 6001).state, 'open', 'the kept item stays open');
  const comments = dump.comments.filter((c) => c.issue === 6002);
  assert.equal(comments.length, 1);
  assert.match(comments[0].body, /^Duplicate of #6001\n\n<!-- doppel:pair=6001:6002 v1 -->$/);
  // the queue is empty, the view says so, and every write is in the audit
  await until(async () => !(await page.locator('#apply-empty').isHidden()), 'the empty queue');
  assert.equal(await page.locator('#apply-go').isDisabled(), true);
  const log = await runDoppel(['apply', '--log', '--json', '--repo', 'acme/widgets', '--db', t.db]);
  assert.equal(log.code, 0, log.stderr);
  const done = JSON.parse(log.stdout).filter((a) => a.state === 'done').map((a) => a.kind);
  assert.deepEqual(done.sort(), ['close', 'comment', 'label']);
  // confirming the old plan again sends nothing
  const stale = await post(base, '/api/apply', JSON.stringify({ repo: 1, confirm: hash }));
  assert.equal(stale.status, 409);
  assert.equal((await writes(t)).length, 3);
  assert.deepEqual(page.bad, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
});

test('axe-core finds nothing on the Apply view after a run (light and dark)', async ({ browser, base }) => {
  const found = [];
  for (const scheme of ['light', 'dark']) {
    const ctx = await browser.newContext({ bypassCSP: true, viewport: { width: 1000, height: 900 } });
    const page = await ctx.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${base}/apply`);
    await until(async () => (await page.locator('#apply-run').getAttribute('data-state')) === 'done', 'the last run shown');
    found.push(...await axe(page, `apply after a run (${scheme})`));
    await ctx.close();
  }
  assert.deepEqual(found, []);
});

test('without --write the plan is read-only and says how to turn writing on', async (t) => {
  const { page, ro } = t;
  const base = ro.url;
  assert.equal((await post(base, `/api/pairs/${PAIR}/verdict`, '{"verdict":"duplicate"}')).status, 200);
  assert.equal((await post(base, `/api/pairs/${PAIR}/queue`, '{}')).status, 200);
  await openApply(page, base);
  assert.equal(await page.locator('.apply-unit').count(), 1);
  const mode = await page.locator('#apply-mode').textContent();
  assert.match(mode, /Writing to GitHub is off: this plan is read-only/);
  assert.match(mode, /doppel serve --write/);
  assert.match(mode, /GITHUB_TOKEN/);
  assert.equal(await page.locator('#apply-go').isDisabled(), true);
  assert.match(await page.locator('#apply-go-note').textContent(), /read-only/);
  // the plan is still all there: which item is closed, where the comment goes
  assert.deepEqual(await page.locator('.step .step-what').allTextContents(),
                   ['Comment on #6002', 'Close #6002 as a duplicate of #6001', 'Add label duplicate to #6002']);
  const before = (await writes(t)).length;
  const hash = (await request(base, 'GET', '/api/apply')).json.hash;
  const r = await post(base, '/api/apply', JSON.stringify({ repo: 1, confirm: hash }));
  assert.equal(r.status, 403);
  assert.match(r.json.error, /writing to GitHub is off/);
  assert.equal((await writes(t)).length, before, 'nothing sent');
  assert.deepEqual(page.bad, []);
});

test('the token reaches no page, no API answer and no log line', async (t) => {
  const bodies = [];
  for (const base of [t.base, t.ro.url])
    for (const p of ['/', '/apply', '/api/apply', '/api/apply/run', '/api/meta', `/api/pairs/${PAIR}`, '/static/app.js'])
      bodies.push((await request(base, 'GET', p)).body);
  bodies.push(await t.page.content());
  for (const b of bodies) assert.ok(!b.includes(SECRET) && !b.includes(SECRET.slice(4, 20)), 'a token in an answer');
  for (const s of [t.srv.stderr(), t.ro.stderr()]) assert.ok(!s.includes(SECRET.slice(4, 20)), s);
  assert.match(t.srv.stderr(), /the Apply view writes to GitHub \(http:\/\/127\.0\.0\.1:\d+, token from GITHUB_TOKEN\)/);
});

run({ setup, teardown });
