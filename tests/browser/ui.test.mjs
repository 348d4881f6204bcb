// ui.test.mjs -- the review page in a real browser (Debian's chromium driven
// by playwright-core) against `doppel serve` on the fixture store: every
// key, the toast, the help overlay, the reasoning panel, copy, verdicts,
// deep links and history, the narrow layout, and hostile bodies.
import assert from 'node:assert/strict';
import { test, run } from './tap.mjs';
import { startPages, stopAll, until, idle, openPair, watchedPage, request } from './lib.mjs';

const WIDE = { width: 1400, height: 900 };
const NARROW = { width: 700, height: 900 };

const text = (page, sel) => page.locator(sel).first().innerText();
const text_ = text;
// The header as it shows: without the words only screen readers get.
const headline = (page) => page.locator('#view-pair .pair-title').evaluate((h) => {
  const c = h.cloneNode(true);
  for (const e of c.querySelectorAll('.vh')) e.remove();
  return c.textContent.replace(/\s+/g, ' ').trim();
});
const path = (page) => new URL(page.url()).pathname + new URL(page.url()).search;

const newPage = (ctx, viewport = WIDE) => watchedPage(ctx, viewport);

async function waitPairPath(page, re) {
  await until(() => re.test(path(page)), `URL matching ${re}`);
  const id = Number(path(page).match(/\/pair\/(\d+)/)[1]);
  await until(async () => (await page.evaluate(() => window.history.state, null)) !== undefined &&
    (await page.locator('#q-link').innerText()) !== '' &&
    (await page.evaluate((i) => document.title.includes('↔') && !document.querySelector('#view-pair').classList.contains('loading'), id)),
  'pair rendered');
}

async function setup() {
  const t = await startPages('ui', { viewport: WIDE });
  t.page = await newPage(t.ctx);
  return t;
}

test('index lists pairs by value with counts', async ({ page, base }) => {
  await page.goto(`${base}/`);
  await until(async () => (await page.locator('#pairs tbody tr').count()) === 7, '7 rows');
  assert.equal(await text(page, '#counts'), '7 pairs · 1 reviewed');
  const values = await page.locator('#pairs tbody tr td.num').allInnerTexts();
  assert.deepEqual(values, [...values].sort((a, b) => Number(b) - Number(a)));
  assert.equal(values[0], '2.289');
  const first = await page.locator('#pairs tbody tr').first().innerText();
  for (const s of ['related', 'high', '#5693', 'Crash when opening settings', 'open', '#4606', 'PR', 'closed'])
    assert.ok(first.includes(s), `first row shows ${s}: ${first}`);
  const reviewedRow = page.locator('#pairs tbody tr[data-id="6"]');
  assert.match(await reviewedRow.innerText(), /not related/);
});

test('j/k/↓/↑/n/p move the index selection, Enter opens the pair', async ({ page }) => {
  const sel = () => page.locator('#pairs tbody tr.sel').getAttribute('data-index');
  assert.equal(await sel(), '0');
  await page.keyboard.press('j');
  assert.equal(await sel(), '1');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('n');
  assert.equal(await sel(), '3');
  await page.keyboard.press('k');
  await page.keyboard.press('ArrowUp');
  assert.equal(await sel(), '1');
  await page.keyboard.press('p');
  assert.equal(await sel(), '0');
  await page.keyboard.press('k');
  assert.equal(await sel(), '0', 'stays on the first row');
  await page.keyboard.press('Enter');
  await waitPairPath(page, /^\/pair\/1$/);
});

test('pair header reads "← index  #Q ↔ Kind #C  Relation · confidence · value"', async ({ page }) => {
  assert.equal(await text(page, '#back'), '← index');
  assert.equal(await headline(page), '#5693 ↔ Pull request #4606');
  assert.equal(await page.locator('#c-kind').innerText(), 'Pull request');
  // the h1 says what the keys are, for a screen reader too
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Query #5693 paired with candidate Pull request #4606' }).count(), 1);
  assert.equal(await page.title(), '#5693 ↔ Pull request #4606 · doppel');
  assert.equal(await text(page, '#pair-meta'), 'Related · high · value 2.289');
  assert.equal(await page.locator('#q-link').getAttribute('href'), 'https://github.com/acme/widgets/issues/5693');
  assert.equal(await page.locator('#c-link').getAttribute('href'), 'https://github.com/acme/widgets/pull/4606');
});

test('panes show kind, title, state, author, dates and coloured labels', async ({ page }) => {
  assert.equal(await text(page, '#pane-q .pane-head'), 'QUERY · ISSUE');
  assert.equal(await text(page, '#pane-c .pane-head'), 'CANDIDATE · PULL REQUEST');
  const q = await text(page, '#pane-q .item');
  for (const s of ['Crash when opening settings with an empty profile', 'open', 'opened 2023-04-11 by alice',
                   'updated 2023-05-01', 'bug', 'crash', 'needs-triage'])
    assert.ok(q.includes(s), `query pane shows ${s}`);
  const c = await text(page, '#pane-c .item-meta');
  assert.ok(c.includes('closed · completed'), c);
  assert.ok(c.includes('by bob'), c);
  const bg = await page.locator('#pane-q .label', { hasText: 'bug' }).evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(bg, 'rgb(215, 58, 74)');
  const evil = page.locator('#pane-c .label', { hasText: 'evil' });
  assert.equal(await evil.getAttribute('class'), 'label ', 'hostile colour is dropped');
  assert.equal(await page.locator('[style]').count(), 0, 'no inline style attributes');
});

test('bodies render like GitHub: tables, code, task lists, strikethrough, autolinks, #N', async ({ page }) => {
  const md = page.locator('#pane-q .item > .md');
  assert.equal(await md.locator('table th').count(), 2);
  assert.equal(await md.locator('input[type=checkbox][disabled]').count(), 2);
  assert.equal(await md.locator('del').innerText(), 'wait');
  assert.match(await md.locator('pre code').evaluate((e) => getComputedStyle(e).fontFamily), /mono/i);
  assert.equal(await md.locator('a[href="https://example.com/crash-report"]').count(), 1);
  assert.equal(await md.locator('a[href="https://github.com/acme/widgets/issues/4606"]').innerText(), '#4606');
  assert.equal(await md.locator('code', { hasText: '#99' }).count(), 1, '#99 in code stays code');
  assert.ok((await md.innerText()).includes('foo#12'), 'foo#12 stays text');
  assert.equal(await md.locator('img').count(), 0, 'remote images are not loaded');
  assert.equal(await md.locator('a[href="https://tracker.example.net/pixel.png"]').innerText(), 'image: screenshot of the crash');
  assert.equal(await md.locator('a[href^="http"]').first().getAttribute('rel'), 'noreferrer noopener nofollow');
});

test('j/↓/n next pair and k/↑/p previous pair, URL per pair', async ({ page }) => {
  await page.keyboard.press('j');
  await waitPairPath(page, /^\/pair\/2$/);
  await page.keyboard.press('k');
  await waitPairPath(page, /^\/pair\/1$/);
  await page.keyboard.press('ArrowDown');
  await waitPairPath(page, /^\/pair\/2$/);
  await page.keyboard.press('ArrowUp');
  await waitPairPath(page, /^\/pair\/1$/);
  await page.keyboard.press('n');
  await waitPairPath(page, /^\/pair\/2$/);
  await page.keyboard.press('p');
  await waitPairPath(page, /^\/pair\/1$/);
  assert.equal(await headline(page), '#5693 ↔ Pull request #4606');
});

test('the next pair is prefetched: j needs no request', async ({ page }) => {
  const requests = [];
  const onReq = (r) => { if (r.url().includes('/api/pairs/2')) requests.push(r.url()); };
  await until(() => page.evaluate(() => true), 'page');
  await new Promise((r) => setTimeout(r, 200));   // let the prefetch of pair 2 land
  page.on('request', onReq);
  await page.keyboard.press('j');
  await waitPairPath(page, /^\/pair\/2$/);
  page.off('request', onReq);
  assert.equal(requests.length, 0, `requests: ${requests}`);
  await page.keyboard.press('k');
  await waitPairPath(page, /^\/pair\/1$/);
});

test('r toggles the reasoning panel with evidence and value breakdown', async ({ page }) => {
  assert.equal(await page.locator('#reasoning').isVisible(), false, 'hidden by default');
  await page.keyboard.press('r');
  assert.equal(await page.locator('#reasoning').isVisible(), true);
  const ev = await page.locator('#evidence li').allInnerTexts();
  assert.equal(ev.length, 4);
  assert.ok(ev[0].startsWith('Both mention the same error'));
  assert.deepEqual(await page.locator('#value-detail td.num').allInnerTexts(), ['1.000', '0.800', '0.489']);
  assert.match(await text(page, '#comment'), /^This looks related to #4606/);
  await page.keyboard.press('r');
  assert.equal(await page.locator('#reasoning').isVisible(), false);
});

test('c copies the exact suggested comment and shows a "copied" toast', async ({ page }) => {
  await page.evaluate(() => navigator.clipboard.writeText('before'));
  await page.keyboard.press('c');
  const toast = page.locator('#toast');
  await until(async () => (await toast.innerText()) === 'copied: comment for #5693' && (await toast.getAttribute('class')).includes('show'), 'toast');
  assert.equal(await toast.getAttribute('role'), 'status');
  assert.equal(await toast.getAttribute('aria-live'), 'polite');
  const clip = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(clip, 'This looks related to #4606 ("Fix null profile name crash in settings"), which was merged.\n' +
                     'Could you check whether `1.2.1` still crashes? <thanks> & "quotes" ✓');
});

test('copy falls back to execCommand when the Clipboard API is missing', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await page.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'clipboard', { get: () => undefined });
    const orig = document.execCommand.bind(document);
    window.__copied = null;
    document.addEventListener('copy', () => { window.__copied = document.getSelection().toString() || document.activeElement.value; });
    document.execCommand = (cmd, ...rest) => orig(cmd, ...rest);
  });
  await openPair(page, base, 3);
  await page.keyboard.press('c');
  await until(async () => (await page.locator('#toast').innerText()) === 'copied: comment for #5001', 'toast');
  assert.equal(await page.evaluate(() => window.__copied), 'Duplicate of #5002?');
  await page.close();
});

test('? opens the help overlay; esc and ? close it; other keys wait', async ({ page }) => {
  const help = page.locator('#help');
  assert.equal(await help.isVisible(), false);
  await page.keyboard.press('?');
  assert.equal(await help.isVisible(), true);
  const dlg = page.locator('#help [role=dialog]');
  assert.equal(await dlg.getAttribute('aria-modal'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'dialog');
  const body = await dlg.innerText();
  for (const s of ['j', 'k', 'n', 'p', '1', '2', 'h', 'l', 'c', 'r', 'd', 'e', 'x', 'u', 'g', 'esc', '↓', '↑', '←', '→',
                   'press ? or esc to close'])
    assert.ok(body.includes(s), `help lists ${s}`);
  await page.keyboard.press('j');
  assert.match(path(page), /^\/pair\/1$/, 'keys do nothing under the overlay');
  await page.keyboard.press('Escape');
  assert.equal(await help.isVisible(), false);
  await page.keyboard.press('?');
  assert.equal(await help.isVisible(), true);
  await page.keyboard.press('?');
  assert.equal(await help.isVisible(), false);
});

test('1/←/h and 2/→/l move focus between panes on a wide screen', async ({ page }) => {
  const active = () => page.evaluate(() => document.activeElement.id);
  for (const [k, want] of [['2', 'pane-c'], ['1', 'pane-q'], ['ArrowRight', 'pane-c'], ['ArrowLeft', 'pane-q'],
                           ['l', 'pane-c'], ['h', 'pane-q']]) {
    await page.keyboard.press(k);
    assert.equal(await active(), want, `key ${k}`);
    assert.equal(await page.locator('#pane-q').isVisible(), true);
    assert.equal(await page.locator('#pane-c').isVisible(), true);
  }
  const box = await page.locator('#pane-c').boundingBox();
  assert.ok(box.x > 600, 'candidate on the right');
});

test('long bodies scroll inside their pane, not the page', async ({ page }) => {
  const r = await page.evaluate(() => ({
    doc: document.documentElement.scrollHeight <= window.innerHeight + 1,
    overflow: getComputedStyle(document.querySelector('#pane-q')).overflowY,
  }));
  assert.ok(r.doc, 'page itself does not scroll');
  assert.equal(r.overflow, 'auto');
});

test('g then i goes to the index; keys do nothing while typing', async ({ page }) => {
  await page.keyboard.press('g');
  await page.keyboard.press('i');
  await until(() => path(page) === '/', 'index URL');
  await until(async () => (await page.locator('#pairs tbody tr.sel').count()) === 1, 'selection');
  assert.equal(await page.locator('#pairs tbody tr.sel').getAttribute('data-id'), '1', 'returns to the pair');
  await page.keyboard.press('/');
  await idle(page);   // keys act in turn: '/' waits for the index to settle
  assert.equal(await page.evaluate(() => document.activeElement.name), 'text');
  await page.keyboard.type('jkx?');
  assert.equal(await page.locator('#help').isVisible(), false);
  assert.equal(await page.locator('#pairs tbody tr.sel').getAttribute('data-index'), '0');
  assert.equal(await page.inputValue('#filters [name=text]'), 'jkx?');
  await page.keyboard.press('Escape');
  await page.fill('#filters [name=text]', '');
  await until(() => path(page) === '/', 'filter cleared');
  await until(async () => (await page.locator('#pairs tbody tr').count()) === 7, '7 rows again');
});

// g waited 1.5 s for its second key and its timer was never cancelled: one
// from an earlier g could end a later g before its i came (test 15 failed
// so under load). Now the key after g completes or cancels it, however late.
test('g then i however late; another key between them cancels g', async ({ browser, base }) => {
  const ctx = await browser.newContext({ viewport: WIDE });   // its own clock
  const page = await newPage(ctx);
  await page.clock.install();
  await openPair(page, base, 1);
  await page.keyboard.press('g');
  await page.clock.runFor(5000);   // the page's timers fire as if 5 s had passed
  await page.keyboard.press('i');
  await until(() => path(page) === '/', 'index after g, 5 s, i');
  await openPair(page, base, 1);
  for (const k of ['g', '1', 'i']) await page.keyboard.press(k);
  await idle(page);
  assert.equal(path(page), '/pair/1', 'g 1 i: the i alone does nothing');
  assert.deepEqual(page.bad, []);
  await ctx.close();
});

test('filters narrow the index and next/previous follow the filter', async ({ page }) => {
  await page.selectOption('#filters [name=relation]', 'duplicate');
  await until(() => path(page) === '/?relation=duplicate', 'filter in URL');
  await until(async () => (await text(page, '#counts')) === '4 pairs · 0 reviewed', 'counts');
  const rels = await page.locator('#pairs tbody td.rel').allInnerTexts();
  assert.deepEqual([...new Set(rels)], ['duplicate']);
  await page.keyboard.press('Enter');
  assert.equal(path(page), '/?relation=duplicate', 'Enter in a select does not open a pair');
  await page.keyboard.press('Escape');
  await page.keyboard.press('Enter');
  await waitPairPath(page, /^\/pair\/2\?relation=duplicate$/);
  await page.keyboard.press('j');
  await waitPairPath(page, /^\/pair\/3\?relation=duplicate$/);
  await page.keyboard.press('j');
  await waitPairPath(page, /^\/pair\/5\?relation=duplicate$/, 'skips the related pair 4');
  assert.equal(await text(page, '#pair-meta'), 'Duplicate · low · value 1.100');
  await page.keyboard.press('g');
  await page.keyboard.press('i');
  await until(() => path(page) === '/?relation=duplicate', 'index keeps the filter');
  await page.selectOption('#filters [name=relation]', '');
  await page.fill('#filters [name=text]', 'theme');
  await until(async () => (await text(page, '#counts')) === '1 pair · 0 reviewed', 'text filter');
  await page.fill('#filters [name=text]', '');
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await until(async () => (await text(page, '#counts')) === '7 pairs · 1 reviewed', 'unfiltered');
});

test('verdict keys save, show, move on, persist across reload; u undoes', async ({ page, base }) => {
  await openPair(page, base, 1);
  await page.keyboard.press('d');
  await waitPairPath(page, /^\/pair\/2$/);
  await until(async () => (await text(page, '#toast')).includes('duplicate'), 'toast');
  await page.keyboard.press('e');
  await waitPairPath(page, /^\/pair\/3$/);
  await page.keyboard.press('x');
  await waitPairPath(page, /^\/pair\/4$/);
  await page.reload();
  await openPair(page, base, 2);
  assert.equal(await text(page, '#verdict'), 'verdict: related');
  await page.goto(`${base}/`);
  await until(async () => (await text(page, '#counts')) === '7 pairs · 4 reviewed', 'index counts the verdicts');
  assert.equal(await page.locator('#pairs tbody tr[data-id="1"] .verdict-cell').innerText(), 'duplicate');
  assert.equal(await page.locator('#pairs tbody tr[data-id="3"] .verdict-cell').innerText(), 'not related');
  // undo in the session that made the verdicts
  await openPair(page, base, 3);
  await page.keyboard.press('x');
  await waitPairPath(page, /^\/pair\/4$/);
  await page.keyboard.press('u');
  await waitPairPath(page, /^\/pair\/3$/);
  await until(async () => (await text(page, '#verdict')) === 'verdict: not related', 'restored previous verdict');
  await page.keyboard.press('u');   // nothing in this page's undo stack: clears this pair's verdict
  await until(async () => !(await page.locator('#verdict').isVisible()), 'verdict cleared');
  await page.reload();
  await until(async () => (await page.locator('#view-pair .pair-title').innerText()).includes('#5001'), 'reloaded');
  assert.equal(await page.locator('#verdict').isVisible(), false, 'undo persisted');
});

test('deep links, back/forward and reload keep the place', async ({ page, base }) => {
  await openPair(page, base, 4);
  assert.equal(await headline(page), '#5003 ↔ Pull request #5004');
  await page.keyboard.press('j');
  await waitPairPath(page, /^\/pair\/5$/);
  await page.goBack();
  await waitPairPath(page, /^\/pair\/4$/);
  assert.equal(await headline(page), '#5003 ↔ Pull request #5004');
  await page.goForward();
  await waitPairPath(page, /^\/pair\/5$/);
  assert.equal(await headline(page), '#5693 ↔ Issue #4700');
  await page.reload();
  await waitPairPath(page, /^\/pair\/5$/);
  assert.equal(await headline(page), '#5693 ↔ Issue #4700');
  await page.goto(`${base}/pair/99999`);
  await until(async () => (await page.locator('#error').innerText()).includes('no pair 99999'), 'not found message');
  page.bad = page.bad.filter((b) => !b.includes('status of 404'));   // the browser logs the API's 404
});

test('Jira keys show without "#"', async ({ page, base }) => {
  await page.goto(`${base}/`);
  await until(async () => (await page.locator('#pairs tbody tr').count()) === 7, 'rows');
  const jira = page.locator('#pairs tbody tr', { hasText: 'HIVE-123' });
  assert.ok(!(await jira.innerText()).includes('#HIVE'));
  await jira.click();
  await until(async () => (await headline(page)) === 'HIVE-123 ↔ Issue HIVE-99', 'jira header');
  assert.equal(await page.locator('#q-link').getAttribute('href'), 'https://issues.apache.org/jira/browse/HIVE-123');
});

test('narrow screen shows one pane; 1/2 switch it', async ({ ctx, base }) => {
  const page = await newPage(ctx, NARROW);
  await openPair(page, base, 1);
  const vis = async () => [await page.locator('#pane-q').isVisible(), await page.locator('#pane-c').isVisible()];
  assert.deepEqual(await vis(), [true, false]);
  assert.equal(await page.locator('.tabs').isVisible(), true);
  await page.keyboard.press('2');
  assert.deepEqual(await vis(), [false, true]);
  await page.keyboard.press('h');
  assert.deepEqual(await vis(), [true, false]);
  await page.keyboard.press('ArrowRight');
  assert.deepEqual(await vis(), [false, true]);
  await page.keyboard.press('j');
  await waitPairPath(page, /^\/pair\/2$/);
  assert.deepEqual(await vis(), [false, true], 'the chosen pane stays across pairs');
  await page.click('#tab-q');
  assert.deepEqual(await vis(), [true, false]);
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scroll');
  await page.close();
});

test('an issue full of XSS payloads renders inert', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await openPair(page, base, 2);
  assert.equal(await text(page, '#pane-q .item-title span'), "<script>alert('title')</script> payload issue");
  await page.locator('#pane-q .item > .md a').first().hover().catch(() => {});
  for (const a of await page.locator('#pane-q .item > .md a').all()) await a.hover().catch(() => {});
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await waitPairPath(page, /^\/pair\/2$/);
  await new Promise((r) => setTimeout(r, 300));
  const md = page.locator('#pane-q .item > .md');
  assert.equal(await md.locator('script, iframe, object, embed, svg, style, textarea, math, details, img').count(), 0);
  const attrs = await md.evaluate((root) => [...root.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)));
  assert.deepEqual(attrs.filter((a) => a.startsWith('on') || a === 'style' || a === 'src'), []);
  const hrefs = await md.evaluate((root) => [...root.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')));
  assert.deepEqual(hrefs.filter((h) => !/^https:\/\//.test(h)), [], `only https links remain: ${hrefs}`);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(page.bad, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  await page.close();
});

// The server's allowlist drops these links; the page must not take them for
// its own if one ever came through (issue 11 C, second fence).
test('links to another host in a body open outside, never in this tab', async ({ browser, base }) => {
  const ctx = await browser.newContext({ viewport: WIDE });
  await ctx.route(/evil\.example/, (route) => route.abort());
  const page = await newPage(ctx);
  await page.route('**/api/pairs/1*', async (route) => {
    const res = await route.fetch();
    const d = await res.json();
    d.query_item.body_html = '<p><a href="//evil.example/a">a</a> <a href="/\\evil.example/b">b</a> ' +
      '<a href=" //evil.example/c">c</a> <a href="/item/1/4606">d</a></p>';
    await route.fulfill({ response: res, json: d });
  });
  await openPair(page, base, 1);
  const links = await page.locator('#pane-q .item > .md a').evaluateAll((as) => as.map((a) => [a.target, a.rel]));
  assert.deepEqual(links.slice(0, 3).map(([t, r]) => t === '_blank' && r.includes('noopener')), [true, true, true],
                   `other hosts open outside: ${JSON.stringify(links)}`);
  assert.deepEqual(links[3], ['', ''], 'a path on this origin stays a page link');
  const popup = ctx.waitForEvent('page');
  await page.locator('#pane-q .item > .md a').first().click();
  await (await popup).close();
  assert.equal(new URL(page.url()).origin + path(page), `${base}/pair/1`, 'this tab stays on the pair');
  await ctx.close();
});

test('an item page shows one item; #N links inside the store', async ({ page, base }) => {
  await page.goto(`${base}/item/2/HIVE-99`);
  await until(async () => (await page.locator('#pane-i .item-title').count()) > 0, 'item');
  assert.equal(await text(page, '#pane-i .pane-head'), 'ITEM · ISSUE');
  assert.match(await text(page, '#pane-i .item-title'), /NPE when partition is empty/);
});

test('index pages through many pairs without loading them all', async ({ ctx, big }) => {
  const page = await newPage(ctx);
  await page.goto(`${big.url}/`);
  await until(async () => (await page.locator('#pairs tbody tr').count()) === 100, '100 rows');
  assert.equal(await text(page, '#counts'), '257 pairs · 1 reviewed');
  assert.equal(await text(page, '#page-info'), '1–100 of 257');
  await page.locator('#pairs tbody tr').nth(99).click({ trial: true });
  for (let i = 0; i < 99; i++) await page.keyboard.press('j');
  assert.equal(await page.locator('#pairs tbody tr.sel').getAttribute('data-index'), '99');
  await page.keyboard.press('j');
  await until(async () => (await text(page, '#page-info')) === '101–200 of 257', 'second page');
  assert.equal(await page.locator('#pairs tbody tr.sel').getAttribute('data-index'), '0');
  await page.keyboard.press('k');
  await until(async () => (await text(page, '#page-info')) === '1–100 of 257', 'back to the first page');
  await until(async () => (await page.locator('#pairs tbody tr.sel').getAttribute('data-index')) === '99', 'last row selected');
  await page.close();
});

test('the pager jumps to the last page and back to the first', async ({ ctx, big }) => {
  const page = await newPage(ctx);
  await page.goto(`${big.url}/`);
  await until(async () => (await text(page, '#page-info')) === '1–100 of 257', 'first page');
  assert.ok(await page.locator('[data-action="page-first"]').isDisabled());
  await page.locator('[data-action="page-last"]').click();
  await until(async () => (await text(page, '#page-info')) === '201–257 of 257', 'last page');
  assert.ok(await page.locator('[data-action="page-last"]').isDisabled());
  assert.ok(await page.locator('[data-action="page-next"]').isDisabled());
  const shown = await page.locator('#pairs tbody tr').evaluateAll((rs) => rs.map((r) => Number(r.dataset.id)));
  const all = (await request(big.url, 'GET', '/api/pairs?limit=300')).json.pairs.map((p) => p.id);
  assert.deepEqual(shown, all.slice(200));
  await page.locator('[data-action="page-prev"]').click();
  await until(async () => (await text(page, '#page-info')) === '101–200 of 257', 'page before the last');
  await page.locator('[data-action="page-first"]').click();
  await until(async () => (await text(page, '#page-info')) === '1–100 of 257', 'back to the first page');
  assert.ok(await page.locator('[data-action="page-prev"]').isDisabled());
  await page.close();
});

test('the help overlay traps focus and gives it back on close', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await openPair(page, base, 1);
  await page.keyboard.press('2');
  const active = () => page.evaluate(() => document.activeElement.id || document.activeElement.tagName);
  assert.equal(await active(), 'pane-c');
  await page.keyboard.press('?');
  assert.equal(await page.locator('#help').isVisible(), true);
  const inside = () => page.evaluate(() => document.querySelector('#help').contains(document.activeElement));
  assert.equal(await page.evaluate(() => document.querySelector('#view-pair').inert), true, 'page behind is inert');
  for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab', 'Tab']) {
    await page.keyboard.press(key);
    assert.equal(await inside(), true, `focus stays in the dialog after ${key}`);
  }
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'close-help');
  await page.keyboard.press('Escape');
  assert.equal(await page.locator('#help').isVisible(), false);
  assert.equal(await active(), 'pane-c', 'focus returns to the candidate pane');
  assert.equal(await page.evaluate(() => document.querySelector('#view-pair').inert), false);
  // Closing with the button (Enter on it) returns focus too.
  await page.locator('[data-action="reasoning"]').focus();
  await page.keyboard.press('?');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  assert.equal(await page.locator('#help').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'reasoning');
  assert.deepEqual(page.bad, []);
  await page.close();
});

test('each pane shows its comments, collapsed, rendered like bodies', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await openPair(page, base, 1);
  const det = page.locator('#pane-q details.comments');
  assert.equal(await det.locator('summary').innerText(), '2 comments');
  assert.equal(await det.evaluate((d) => d.open), false, 'collapsed');
  assert.equal(await page.locator('#pane-q .comment-item').first().isVisible(), false);
  assert.equal(await page.locator('#pane-c details.comments').count(), 0, 'no comments, no section');
  await det.locator('summary').click();
  const items = det.locator('.comment-item');
  assert.equal(await items.count(), 2);
  assert.equal(await items.first().isVisible(), true);
  assert.match(await items.first().locator('.comment-head').innerText(), /bob\s*·\s*2023-04-12/);
  const first = items.first().locator('.md');
  assert.equal(await first.locator('a[href="https://github.com/acme/widgets/issues/4606"]').innerText(), '#4606');
  assert.equal(await first.locator('table td').count(), 2);
  assert.equal(await first.locator('code').innerText(), '1.2.1');
  const evil = items.nth(1).locator('.md');
  assert.equal(await evil.locator('script, img, iframe').count(), 0);
  assert.deepEqual(await evil.evaluate((r) => [...r.querySelectorAll('a[href]')].map((a) => a.getAttribute('href'))), []);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  // An item with more comments than the API sends says so.
  await openPair(page, base, 4);
  const many = page.locator('#pane-q details.comments');
  assert.equal(await many.locator('summary').innerText(), '205 comments');
  assert.equal(await many.locator('.comment-item').count(), 200);
  assert.match(await many.locator('.more').textContent(), /first 200 of 205/);
  assert.deepEqual(page.bad, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  await page.close();
});

test('Jira wiki markup renders as formatting, keys link to items, hostile bits stay inert', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await openPair(page, base, 7);
  const md = page.locator('#pane-q .item > .md');
  assert.equal(await md.locator('h2').innerText(), 'Steps to reproduce');
  assert.equal(await md.locator('strong').first().innerText(), 'this');
  assert.equal(await md.locator('em').first().innerText(), 'empty');
  assert.equal(await md.locator('p > code', { hasText: 'NullPointerException' }).count(), 1);
  assert.equal(await md.locator('ol > li').count(), 2);
  assert.equal(await md.locator('ol li ul li').innerText(), 'with no rows');
  assert.deepEqual(await md.locator('table th').allInnerTexts(), ['Version', 'Result']);
  assert.equal(await md.locator('pre code.language-java').count(), 1);
  assert.match(await md.locator('pre code.language-java').innerText(), /<b>not bold<\/b>/);
  assert.match(await md.locator('pre').nth(1).innerText(), /at org\.apache\.hadoop\.hive\.ql\.Driver\.run/);
  assert.equal(await md.locator('blockquote').innerText(), 'The planner assumes at least one row.');
  assert.equal(await md.locator('a[href="https://example.org/log.txt"]').innerText(), 'works');
  assert.equal(await md.locator('a[href="https://issues.apache.org/jira/browse/HADOOP-4242"]').innerText(), 'HADOOP-4242');
  const text = await md.innerText();
  assert.ok(text.includes("<script>window.__xss = 21; alert(21)</script>"), 'markup-looking text stays text');
  assert.ok(text.includes('[INFO] stays @hiveuser'), text);
  assert.ok(!text.includes('h2.') && !text.includes('{code') && !text.includes('||'), 'no raw wiki syntax left');
  assert.equal(await md.locator('script, img, iframe, object, embed, svg, b').count(), 0);
  const attrs = await md.evaluate((root) => [...root.querySelectorAll('*')].flatMap((e) => [...e.attributes].map((a) => a.name)));
  assert.deepEqual(attrs.filter((a) => a.startsWith('on') || a === 'style' || a === 'src'), []);
  const hrefs = await md.evaluate((root) => [...root.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')));
  assert.deepEqual(hrefs.filter((h) => !/^(https:\/\/|\/item\/2\/HIVE-)/.test(h)), [], `safe links only: ${hrefs}`);
  // The comment is wiki markup too.
  await page.locator('#pane-q details.comments summary').click();
  const c = page.locator('#pane-q .comment-item .md');
  assert.equal(await c.locator('ul li').count(), 2);
  assert.equal(await c.locator('code').innerText(), 'Driver.run');
  // HIVE-99 in the text opens that item here.
  await md.locator('a[href="/item/2/HIVE-99"]').click();
  await until(() => path(page) === '/item/2/HIVE-99', 'item URL');
  await until(async () => (await page.locator('#pane-i .item-title').count()) > 0, 'item view');
  assert.match(await text_(page, '#pane-i .item-title'), /NPE when partition is empty/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.deepEqual(page.bad, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
  await page.close();
});

test('the meta line says how many comments the tracker counts and how many are stored', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await openPair(page, base, 1);
  assert.equal(await text(page, '#pane-q .comment-count'), '3 comments (2 stored)');
  assert.equal(await text(page, '#pane-q details.comments summary'), '2 comments');
  assert.equal(await text(page, '#pane-c .comment-count'), '4 comments on the tracker, none stored');
  assert.equal(await page.locator('#pane-c details.comments').count(), 0);
  await openPair(page, base, 4);
  assert.equal(await text(page, '#pane-q .comment-count'), '205 comments');
  await openPair(page, base, 2);
  assert.equal(await page.locator('#pane-q .comment-count').count(), 0, 'no comments anywhere: nothing said');
  await openPair(page, base, 7);
  assert.equal(await text(page, '#pane-q .comment-count'), '1 comment');
  await page.close();
});

test('labels, Jira components and affected versions are named rows that look different', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await openPair(page, base, 7);
  const rows = page.locator('#pane-q .chips .chip-group');
  assert.deepEqual(await rows.locator('.chip-name').allInnerTexts(), ['Labels', 'Components', 'Affects versions']);
  assert.deepEqual(await page.locator('#pane-q .chip.component').allInnerTexts(), ['Query Processor', 'Metastore']);
  assert.deepEqual(await page.locator('#pane-q .chip.version').allInnerTexts(), ['3.1.0', '4.0.0']);
  const look = (sel) => page.locator(sel).first().evaluate((e) => {
    const s = getComputedStyle(e);
    return `${s.borderTopStyle} ${s.borderTopColor} ${s.fontFamily} ${s.borderTopLeftRadius}`;
  });
  const looks = [await look('#pane-q .label'), await look('#pane-q .chip.component'), await look('#pane-q .chip.version')];
  assert.equal(new Set(looks).size, 3, `three different looks: ${looks.join(' | ')}`);
  await page.close();
});

for (const [size, vp] of [['1400 px', WIDE], ['700 px', NARROW]]) {
  test(`index titles get room to be read (${size})`, async ({ ctx, base }) => {
    const page = await newPage(ctx, vp);
    await page.goto(`${base}/`);
    await until(async () => (await page.locator('#pairs tbody tr').count()) === 7, 'rows');
    const titles = await page.locator('#pairs tbody .title').evaluateAll((ts) => ts.map((t) => ({
      text: t.textContent, width: t.getBoundingClientRect().width,
      cut: t.scrollWidth > t.clientWidth + 1 || t.scrollHeight > t.clientHeight + 1 })));
    // a title is whole, or has at least 200 px (~28 characters) a line
    for (const t of titles) assert.ok(!t.cut || t.width >= 200, `"${t.text}" cut at ${t.width.toFixed(0)} px`);
    const full = await page.locator('#pairs tbody tr[data-id="1"] td.item-cell .title').first().evaluate((t) => t.scrollHeight <= t.clientHeight + 1 && t.scrollWidth <= t.clientWidth + 1);
    assert.equal(full, true, 'the first title is shown whole');
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), true, 'no sideways scroll');
    await page.close();
  });
}

test('the reasoning says which item the suggested comment is for', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
  // without "comment_on" (the store does not say yet): the query
  await openPair(page, base, 1);
  await page.keyboard.press('r');
  assert.equal(await text(page, '#comment-for'), 'for #5693');
  assert.equal(await page.locator('#comment-for a').getAttribute('href'), 'https://github.com/acme/widgets/issues/5693');
  assert.equal(await page.locator('#canonical').isVisible(), false);
  await openPair(page, base, 7);
  assert.equal(await text(page, '#comment-for'), 'for HIVE-123');
  // with "comment_on" and "canonical" in the pair: those
  await page.route('**/api/pairs/1*', async (route) => {
    const res = await route.fetch();
    const d = await res.json();
    d.pair.comment_on = '4606';
    d.pair.canonical = '4700';
    await route.fulfill({ response: res, json: d });
  });
  await openPair(page, base, 1);
  assert.equal(await text(page, '#comment-for'), 'for #4606');
  assert.equal(await page.locator('#comment-for a').getAttribute('href'), 'https://github.com/acme/widgets/pull/4606');
  assert.equal(await text(page, '#canonical'), 'Canonical item of this duplicate cluster: #4700');
  assert.equal(await page.locator('#canonical a').getAttribute('href'), 'https://github.com/acme/widgets/issues/4700');
  await page.keyboard.press('c');
  await until(async () => (await text(page, '#toast')) === 'copied: comment for #4606', 'toast names the item');
  await page.unroute('**/api/pairs/1*');
  await page.close();
});

test('the help lists the spec\'s keys in its words and order, then the others', async ({ ctx, base }) => {
  const page = await newPage(ctx);
  await openPair(page, base, 1);
  await page.keyboard.press('?');
  const tables = page.locator('#help table.keys');
  assert.equal(await tables.count(), 2);
  const rows = await tables.first().locator('tr').evaluateAll((trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
  assert.deepEqual(rows, ['j / ↓ / n next pair', 'k / ↑ / p previous pair', '1 / ← / h query pane', '2 / → / l candidate pane',
                          'c copy suggested comment', 'r toggle reasoning', 'g i go to index', '? show this help',
                          'esc close overlays']);
  assert.equal(await text(page, '#help h3'), 'More keys');
  const more = await tables.nth(1).innerText();
  for (const k of ['d', 'e', 'x', 'u', 'space', 'page down', 'home', 'end', 'shift', 'enter', '/'])
    assert.ok(more.includes(k), `more keys lists ${k}`);
  await page.keyboard.press('Escape');
  await page.close();
});

test('no errors, dialogs or CSP violations on the main page', async ({ page }) => {
  assert.deepEqual(page.bad, []);
  assert.deepEqual(await page.evaluate(() => window.__csp), []);
});

run({ setup, teardown: stopAll });
