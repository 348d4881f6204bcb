// keys.test.mjs -- every key of the review page pressed slowly (waiting for
// the page after each) and quickly (a burst, the API slowed down so that
// presses arrive while pages load), at 1400 and 700 px; the scroll keys;
// Esc; scroll positions on Back and reload.
//
// Waiting is on the page's own state, never on time: the page marks
// <html data-keys="busy|idle"> while pressed keys are still being acted on.
import assert from 'node:assert/strict';
import { test, run } from './tap.mjs';
import { startPages, stopAll, request, until, idle, shownPair, openPair, openIndex,
         watchedPage } from './lib.mjs';

const WIDE = { width: 1400, height: 900 };
const NARROW = { width: 700, height: 900 };
const SIZES = [['1400 px', WIDE], ['700 px', NARROW]];
const API_DELAY_MS = 40;   // the slowed API of the quick tests

const path = (page) => new URL(page.url()).pathname + new URL(page.url()).search;
const histLen = (page) => page.evaluate(() => history.length);

async function newPage(ctx, viewport, { slow = false } = {}) {
  const page = await watchedPage(ctx, viewport);
  // A slow server: every API answer comes API_DELAY_MS late, so quick
  // presses land while the page is still loading.
  if (slow) await page.route('**/api/**', async (route) => { await new Promise((r) => setTimeout(r, API_DELAY_MS)); await route.continue(); });
  return page;
}

// Presses each key and waits for the page before the next.
async function slowly(page, keys) {
  for (const k of keys) {
    await page.keyboard.press(k);
    await idle(page);
  }
}

// Presses all keys at once, then waits for the page.
async function quickly(page, keys) {
  for (const k of keys) await page.keyboard.press(k);
  await idle(page);
}

async function setup() {
  const t = await startPages('keys');
  // pair ids in index order (value), which is also next/previous order
  t.order = (await request(t.big.url, 'GET', '/api/pairs?limit=40')).json.pairs.map((p) => p.id);
  return t;
}

for (const [size, vp] of SIZES) {
  test(`ten quick j reach ten pairs, one history entry each; Back walks them (${size})`, async ({ ctx, big, order }) => {
    const page = await newPage(ctx, vp, { slow: true });
    await openPair(page, big.url, order[0]);
    const len0 = await histLen(page);
    await quickly(page, Array(10).fill('j'));
    assert.equal(await shownPair(page), order[10]);
    assert.equal(await histLen(page), len0 + 10, 'one history entry per press');
    for (let i = 9; i >= 0; i--) {
      await page.goBack();
      await until(async () => (await shownPair(page)) === order[i], `back to pair ${order[i]}`);
    }
    // ten quick k from the tenth
    await openPair(page, big.url, order[10]);
    const len1 = await histLen(page);
    await quickly(page, Array(10).fill('k'));
    assert.equal(await shownPair(page), order[0]);
    assert.equal(await histLen(page), len1 + 10);
    // mixed, all three spellings of each direction
    await quickly(page, ['j', 'ArrowDown', 'n', 'k', 'ArrowUp', 'j', 'p', 'n']);
    assert.equal(await shownPair(page), order[2]);
    assert.deepEqual(page.bad, []);
    await page.close();
  });

  test(`typed-ahead verdicts judge the pair the keys went to (${size})`, async ({ ctx, big, order }) => {
    const page = await newPage(ctx, vp, { slow: true });
    await openPair(page, big.url, order[20]);
    await quickly(page, ['j', 'd', 'e', 'x', 'u']);
    // j: 21; d judges 21 and moves to 22; e judges 22 -> 23; x judges 23 -> 24; u undoes 23, back on it
    assert.equal(await shownPair(page), order[23]);
    const verdict = async (id) => (await request(big.url, 'GET', `/api/pairs/${id}`)).json.pair.verdict;
    assert.deepEqual([await verdict(order[20]), await verdict(order[21]), await verdict(order[22]), await verdict(order[23])],
                     [null, 'duplicate', 'related', null]);
    for (const id of [order[21], order[22]])
      await request(big.url, 'POST', `/api/pairs/${id}/verdict`, { headers: { 'Content-Type': 'application/json', 'X-Doppel': '1' },
                                                                   body: '{"verdict":null}' });
    await page.close();
  });

  test(`quick j and k on the index cross pages both ways without skipping one (${size})`, async ({ ctx, big }) => {
    const page = await newPage(ctx, vp, { slow: true });
    await openIndex(page, big.url);
    await quickly(page, Array(105).fill('j'));
    assert.equal(await page.locator('#page-info').innerText(), '101–200 of 257');
    assert.equal(await page.locator('#pairs tbody tr.sel').getAttribute('data-index'), '5');
    await quickly(page, Array(100).fill('j'));
    assert.equal(await page.locator('#page-info').innerText(), '201–257 of 257');
    // back from the third page: by the cursor of its first row (before=),
    // the same rows as the second page by offset
    await quickly(page, Array(10).fill('k'));
    assert.equal(await page.locator('#page-info').innerText(), '101–200 of 257');
    assert.equal(await page.locator('#pairs tbody tr.sel').getAttribute('data-index'), '95');
    assert.match(new URL(page.url()).search, /[?&]before=/);
    const shown = (await page.locator('#pairs tbody tr').evaluateAll((rs) => rs.map((r) => Number(r.dataset.id))));
    const second = (await request(big.url, 'GET', '/api/pairs?offset=100&limit=100')).json.pairs.map((p) => p.id);
    assert.deepEqual(shown, second);
    await quickly(page, Array(100).fill('k'));
    assert.equal(await page.locator('#page-info').innerText(), '1–100 of 257');
    assert.equal(await page.locator('#pairs tbody tr.sel').getAttribute('data-index'), '95');
    await page.close();
  });

  test(`every pair key, slowly and quickly (${size})`, async ({ ctx, base }) => {
    const page = await newPage(ctx, vp);
    const pane = () => page.evaluate(() => document.querySelector('#panes').dataset.show);
    const visible = (sel) => page.locator(sel).isVisible();
    // slowly: each key, then what it did
    await openPair(page, base, 1);
    for (const [k, want] of [['j', 2], ['k', 1], ['ArrowDown', 2], ['ArrowUp', 1], ['n', 2], ['p', 1]]) {
      await slowly(page, [k]);
      assert.equal(await shownPair(page), want, `after ${k}`);
    }
    for (const [k, want] of [['2', 'c'], ['1', 'q'], ['l', 'c'], ['h', 'q'], ['ArrowRight', 'c'], ['ArrowLeft', 'q']]) {
      await slowly(page, [k]);
      assert.equal(await pane(), want, `after ${k}`);
      assert.equal(await visible(`#pane-${want}`), true);
      assert.equal(await page.evaluate(() => document.activeElement.id), `pane-${want}`, `${k} focuses the pane`);
    }
    await slowly(page, ['r']);
    assert.equal(await visible('#reasoning'), true);
    await slowly(page, ['r']);
    assert.equal(await visible('#reasoning'), false);
    await slowly(page, ['c']);
    await until(async () => (await page.locator('#toast').innerText()) === 'copied: comment for #5693', 'copied');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), (await page.locator('#comment').textContent()));
    await slowly(page, ['?']);
    assert.equal(await visible('#help'), true);
    await slowly(page, ['Escape']);
    assert.equal(await visible('#help'), false);
    await slowly(page, ['g', 'i']);
    assert.equal(path(page), '/');
    await until(async () => (await page.locator('#pairs tbody tr.sel').getAttribute('data-id')) === '1', 'back on pair 1');

    // quickly: the same keys in bursts
    await openPair(page, base, 1);
    const len0 = await histLen(page);
    await quickly(page, ['j', 'j', 'k', 'n', 'p', 'ArrowDown', 'ArrowUp', 'j']);
    assert.equal(await shownPair(page), 3);
    assert.equal(await histLen(page), len0 + 8);
    await quickly(page, ['2', '1', 'l', 'h', 'ArrowRight']);
    assert.equal(await pane(), 'c');
    await quickly(page, ['r', 'r', 'r']);
    assert.equal(await visible('#reasoning'), true);
    await quickly(page, ['Escape']);
    assert.equal(await visible('#reasoning'), false);
    await quickly(page, ['?', '?', '?']);
    assert.equal(await visible('#help'), true);
    await quickly(page, ['Escape']);
    // g i, then index keys, typed ahead: they act on the index once it shows
    await quickly(page, ['g', 'i', 'j', 'j', 'Enter']);
    assert.equal(await shownPair(page), 5, 'from row 3 (pair 3), two rows down: pair 5');
    await quickly(page, ['c', 'j', 'c']);
    await until(async () => (await page.locator('#toast').innerText()) === 'copied: comment for HIVE-123', 'copied the pair j went to');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'Duplicate of HIVE-99?');
    assert.deepEqual(page.bad, []);
    await page.close();
  });

  test(`every index key, slowly and quickly (${size})`, async ({ ctx, base }) => {
    const page = await newPage(ctx, vp);
    const sel = async () => Number(await page.locator('#pairs tbody tr.sel').getAttribute('data-index'));
    await openIndex(page, base);
    for (const [k, want] of [['j', 1], ['ArrowDown', 2], ['n', 3], ['k', 2], ['ArrowUp', 1], ['p', 0], ['End', 6],
                             ['Home', 0], ['PageDown', 6], ['PageUp', 0], [' ', 6], ['Shift+ ', 0]]) {
      await slowly(page, [k]);
      assert.equal(await sel(), want, `after ${k}`);
    }
    await slowly(page, ['/']);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'text');
    await slowly(page, ['Escape']);
    assert.equal(await page.evaluate(() => document.activeElement === document.body), true);
    await slowly(page, ['j', 'Enter']);
    assert.equal(await shownPair(page), 2);
    await openIndex(page, base);
    await quickly(page, ['j', 'j', 'j', 'k', 'n', 'End', 'k', 'Home', 'j']);
    assert.equal(await sel(), 1);
    await quickly(page, ['j', 'Enter', 'j']);
    assert.equal(await shownPair(page), 4, 'row 2 opened (pair 3), then the next pair');
    await page.close();
    // 2 means nothing on the index, but it comes after Enter: it acts on the pair
    const slow = await newPage(ctx, vp, { slow: true });
    await openIndex(slow, base);
    await quickly(slow, ['Enter', '2']);
    assert.equal(await shownPair(slow), 1);
    assert.equal(await slow.evaluate(() => document.querySelector('#panes').dataset.show), 'c');
    await slow.close();
  });

  test(`space, page down/up, home and end scroll the active pane without focusing it (${size})`, async ({ ctx, base }) => {
    const page = await newPage(ctx, vp);
    await openPair(page, base, 4);   // #5003: a long body
    const top = () => page.locator('#pane-q').evaluate((e) => e.scrollTop);
    const bottom = () => page.locator('#pane-q').evaluate((e) => e.scrollHeight - e.clientHeight);
    const focused = () => page.evaluate(() => document.activeElement === document.body);
    assert.equal(await focused(), true);
    assert.ok((await bottom()) > 1000, 'the body is long');
    await slowly(page, ['PageDown']);
    const one = await top();
    assert.ok(one > 300, `page down scrolled ${one}`);
    await slowly(page, ['PageDown']);
    assert.ok((await top()) > one);
    await slowly(page, ['PageUp', 'PageUp']);
    assert.equal(await top(), 0);
    await slowly(page, [' ']);
    assert.equal(await top(), one);
    await slowly(page, ['Shift+ ']);
    assert.equal(await top(), 0);
    await slowly(page, ['End']);
    assert.equal(await top(), await bottom());
    await slowly(page, ['Home']);
    assert.equal(await top(), 0);
    await quickly(page, [' ', ' ', 'PageDown', 'PageUp', 'End', 'Home', 'PageDown']);
    assert.equal(await top(), one);
    assert.equal(await focused(), true, 'nothing took the focus');
    // the candidate pane, made active without focus, takes them instead
    await slowly(page, ['2']);
    await page.evaluate(() => document.activeElement.blur());
    await slowly(page, ['End']);
    await slowly(page, ['1']);
    assert.equal(await top(), one, 'the query pane stayed where it was');
    await page.close();
  });

  test(`wide code scrolls sideways with shift+←/→, or ←/→ once focused (${size})`, async ({ ctx, base }) => {
    const page = await newPage(ctx, vp);
    await openPair(page, base, 4);
    const pre = page.locator('#pane-q .md pre').first();
    const left = () => pre.evaluate((e) => e.scrollLeft);
    assert.ok(await pre.evaluate((e) => e.scrollWidth > e.clientWidth), 'the code block is wider than the pane');
    assert.equal(await pre.getAttribute('tabindex'), '0', 'it can take the focus');
    await slowly(page, ['Shift+ArrowRight']);
    const one = await left();
    assert.ok(one > 50, `shift+→ scrolled ${one}`);
    await quickly(page, ['Shift+ArrowRight', 'Shift+ArrowRight', 'Shift+ArrowLeft']);
    assert.ok((await left()) > one);
    await quickly(page, Array(20).fill('Shift+ArrowLeft'));
    assert.equal(await left(), 0);
    assert.equal(await page.evaluate(() => document.querySelector('#panes').dataset.show), 'q', 'the pane stayed');
    // focused: plain ←/→ scroll it (and do not switch panes)
    await pre.focus();
    await page.keyboard.press('ArrowRight');
    await until(async () => (await left()) > 0, '→ scrolls the focused block');
    assert.equal(await page.evaluate(() => document.querySelector('#panes').dataset.show), 'q');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowLeft');
    await until(async () => (await left()) === 0, '← scrolls back');
    // the help says so
    await page.evaluate(() => document.activeElement.blur());
    await page.keyboard.press('?');
    assert.match(await page.locator('#help').innerText(), /shift\s*←\s*\/\s*shift\s*→\s*scroll wide code and tables sideways/);
    await page.keyboard.press('Escape');
    await page.close();
  });

  test(`esc in the search box clears the search and the filter; esc closes the reasoning (${size})`, async ({ ctx, base }) => {
    const page = await newPage(ctx, vp);
    await openIndex(page, base);
    await page.keyboard.press('/');
    await page.keyboard.type('theme');
    await until(() => path(page) === '/?text=theme', 'filtered');
    await until(async () => (await page.locator('#pairs tbody tr').count()) === 1, 'one row');
    await page.keyboard.press('Escape');
    await until(() => path(page) === '/', 'filter gone from the URL');
    await until(async () => (await page.locator('#pairs tbody tr').count()) === 7, 'all rows');
    assert.equal(await page.inputValue('#filters [name=text]'), '');
    assert.equal(await page.evaluate(() => document.activeElement === document.body), true);
    // quickly: Esc before the typing pause has applied the text
    await page.keyboard.press('/');
    await page.keyboard.type('wiki');
    await page.keyboard.press('Escape');
    await idle(page);
    await new Promise((r) => setTimeout(r, 400));   // longer than the typing pause: nothing may apply late
    assert.equal(path(page), '/');
    assert.equal(await page.locator('#pairs tbody tr').count(), 7);
    // the reasoning panel
    await openPair(page, base, 1);
    await page.keyboard.press('r');
    assert.equal(await page.locator('#reasoning').isVisible(), true);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#reasoning').isVisible(), false);
    assert.equal(await page.locator('[data-action="reasoning"]').getAttribute('aria-expanded'), 'false');
    // with the focus inside it, the focus goes to its button
    await page.keyboard.press('r');
    await page.locator('[data-action="copy"]').focus();
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#reasoning').isVisible(), false);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.action), 'reasoning');
    // the help first, then the reasoning
    await page.keyboard.press('r');
    await page.keyboard.press('?');
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#help').isVisible(), false);
    assert.equal(await page.locator('#reasoning').isVisible(), true);
    await page.keyboard.press('Escape');
    assert.equal(await page.locator('#reasoning').isVisible(), false);
    await page.close();
  });

  test(`Back and reload return the panes and the index to where they were (${size})`, async ({ ctx, base, big }) => {
    const page = await newPage(ctx, vp);
    const top = (sel) => page.locator(sel).evaluate((e) => e.scrollTop);
    await openPair(page, base, 4);
    await slowly(page, ['PageDown', 'PageDown']);
    const q = await top('#pane-q');
    assert.ok(q > 0);
    await slowly(page, ['j']);
    assert.equal(await shownPair(page), 5);
    assert.equal(await top('#pane-q'), 0, 'a new pair starts at the top');
    await page.goBack();
    await until(async () => (await shownPair(page)) === 4, 'back on pair 4');
    await until(async () => (await top('#pane-q')) === q, `pane scrolled back to ${q}`);
    await page.goForward();
    await until(async () => (await shownPair(page)) === 5, 'forward on pair 5');
    assert.equal(await top('#pane-q'), 0);
    // open comments and a place among them survive Back and reload
    await page.goBack();
    await until(async () => (await shownPair(page)) === 4, 'back on pair 4');
    await page.locator('#pane-q details.comments summary').click();
    await page.evaluate(() => document.activeElement.blur());
    await slowly(page, ['End']);
    const deep = await top('#pane-q');
    assert.ok(deep > q);
    await slowly(page, ['j']);
    await page.goBack();
    await until(async () => (await shownPair(page)) === 4, 'back on pair 4');
    await until(async () => (await top('#pane-q')) === deep, 'deep in the comments again');
    assert.equal(await page.locator('#pane-q details.comments').evaluate((d) => d.open), true);
    await page.reload();
    await until(async () => (await shownPair(page)) === 4, 'reloaded');
    await until(async () => (await top('#pane-q')) === deep, 'reload keeps the place');
    // the index: a place far down a page, the selection with it
    await openIndex(page, big.url);
    await slowly(page, ['PageDown', 'PageDown', 'PageDown']);
    const t = await top('#view-index .table-wrap');
    const row = await page.locator('#pairs tbody tr.sel').getAttribute('data-index');
    assert.ok(t > 0);
    await slowly(page, ['Enter']);
    await page.goBack();
    await until(async () => (await page.locator('#pairs tbody tr.sel').getAttribute('data-index')) === row, 'same row');
    await until(async () => (await top('#view-index .table-wrap')) === t, `index scrolled back to ${t}`);
    await page.close();
  });
}

run({ setup, teardown: stopAll });
