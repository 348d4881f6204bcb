// a11y.test.mjs -- accessibility of the review page: axe-core on every view
// (the Apply view too) in both colour schemes and both widths, what the
// live region announces, the narrow screen's tabs and tab panels, and the
// headings' names.
//
// axe-core rules: every rule tagged wcag2a, wcag2aa, wcag21a, wcag21aa,
// wcag22aa or best-practice, and any violation fails, whatever its impact.
// axe is injected by the test (page.addScriptTag from node_modules), never
// served by doppel; the CSP forbids the injected inline script, so the axe
// test alone runs in a context with bypassCSP.
import assert from 'node:assert/strict';
import { test, run } from './tap.mjs';
import { makeStore, serve, launch, stopAll, until, idle, openPair, openIndex, request, axe } from './lib.mjs';

const WIDTHS = [1400, 700];

async function setup() {
  const db = makeStore('a11y.db');
  const srv = await serve(db);
  // a verdict queued for GitHub, so the Apply view has a plan to show
  const headers = { 'Content-Type': 'application/json', 'X-Doppel': '1' };
  for (const [p, body] of [['/api/pairs/5/verdict', '{"verdict":"duplicate"}'], ['/api/pairs/5/queue', '{}']])
    assert.equal((await request(srv.url, 'POST', p, { headers, body })).status, 200, p);
  const browser = await launch();
  return { srv, browser, base: srv.url };
}



for (const scheme of ['light', 'dark']) {
  for (const width of WIDTHS) {
    test(`axe-core finds nothing on the index, pair, reasoning, help, comments, long, Jira, item and Apply views (${scheme}, ${width} px)`,
      async ({ browser, base }) => {
        const ctx = await browser.newContext({ bypassCSP: true, viewport: { width, height: 900 } });
        const page = await ctx.newPage();
        await page.emulateMedia({ colorScheme: scheme });
        assert.equal(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), scheme === 'dark');
        const found = [];
        await openIndex(page, base);
        found.push(...await axe(page, 'index'));
        await page.keyboard.press('j');   // a selected row with a red "duplicate"
        found.push(...await axe(page, 'index, row 2 selected'));
        await openPair(page, base, 1);
        found.push(...await axe(page, 'pair'));
        await page.keyboard.press('r');
        await until(() => page.locator('#reasoning').isVisible(), 'reasoning');
        found.push(...await axe(page, 'reasoning'));
        await page.keyboard.press('?');
        await until(() => page.locator('#help').isVisible(), 'help');
        found.push(...await axe(page, 'help'));
        await page.keyboard.press('Escape');
        await page.keyboard.press('r');
        await page.locator('#pane-q details.comments summary').click();
        found.push(...await axe(page, 'pair with comments open'));
        await openPair(page, base, 4);   // a long body with a wide code block
        found.push(...await axe(page, 'long pair'));
        await openPair(page, base, 7);   // Jira: components and versions
        found.push(...await axe(page, 'jira pair'));
        await page.goto(`${base}/item/2/HIVE-99`);
        await until(async () => (await page.locator('#pane-i .item-title').count()) > 0, 'item');
        found.push(...await axe(page, 'item'));
        await page.goto(`${base}/apply`);
        await until(async () => (await page.locator('.apply-unit .step').count()) === 2, 'the Apply view');
        found.push(...await axe(page, 'apply (read-only)'));
        await page.locator('.apply-text summary').click();
        found.push(...await axe(page, 'apply, plan text open'));
        assert.deepEqual(found, []);
        await ctx.close();
      });
  }
}

test('axe really fails a page with a violation (the check can fail)', async ({ browser, base }) => {
  const ctx = await browser.newContext({ bypassCSP: true });
  const page = await ctx.newPage();
  await openIndex(page, base);
  await page.evaluate(() => { document.querySelector('#filters [name="text"]').closest('label').replaceWith(document.createElement('input')); });
  const found = await axe(page, 'broken');
  assert.ok(found.some((f) => f.includes('label')), found.join('\n'));
  await ctx.close();
});

for (const width of WIDTHS) {
  test(`j/k on the index and moving between pairs are announced politely (${width} px)`, async ({ browser, base }) => {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const live = page.locator('#announce');
    await openIndex(page, base);
    assert.equal(await live.getAttribute('aria-live'), 'polite');
    assert.equal(await live.getAttribute('role'), 'status');
    await page.keyboard.press('j');
    await until(async () => (await live.textContent()).startsWith('Row 2 of 7: duplicate, high, value 1.904. #5000'), 'row 2 announced');
    assert.match(await live.textContent(), /↔ issue #4700 Settings page throws AttributeError, closed/);
    await page.keyboard.press('k');
    await until(async () => (await live.textContent()).startsWith('Row 1 of 7: related, high'), 'row 1 announced');
    await page.keyboard.press('Enter');
    await idle(page);
    await until(async () => (await live.textContent()).startsWith('#5693 ↔ Pull request #4606. Related · high · value 2.289'), 'pair announced');
    await page.keyboard.press('j');
    await idle(page);
    await until(async () => (await live.textContent()).startsWith('#5000 ↔ Issue #4700. Duplicate · high · value 1.904'), 'next pair announced');
    await page.close();
  });
}

test('at 700 px the panes are tab panels of the tabs, with one tab in the Tab order', async ({ browser, base }) => {
  const page = await browser.newPage({ viewport: { width: 700, height: 900 } });
  await openPair(page, base, 1);
  const attrs = (sel, names) => page.locator(sel).evaluate((e, ns) => ns.map((n) => e.getAttribute(n)), names);
  assert.deepEqual(await attrs('#tab-q', ['role', 'aria-controls', 'aria-selected', 'tabindex']), ['tab', 'pane-q', 'true', '0']);
  assert.deepEqual(await attrs('#tab-c', ['role', 'aria-controls', 'aria-selected', 'tabindex']), ['tab', 'pane-c', 'false', '-1']);
  assert.deepEqual(await attrs('#pane-q', ['role', 'aria-labelledby']), ['tabpanel', 'tab-q']);
  assert.deepEqual(await attrs('#pane-c', ['role', 'aria-labelledby']), ['tabpanel', 'tab-c']);
  assert.equal(await page.getByRole('tabpanel', { name: 'Query 1' }).count(), 1);
  // ←/→ on a focused tab move between the tabs (and show their panels)
  await page.locator('#tab-q').focus();
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-c');
  assert.deepEqual(await attrs('#tab-c', ['aria-selected', 'tabindex']), ['true', '0']);
  assert.deepEqual(await attrs('#tab-q', ['aria-selected', 'tabindex']), ['false', '-1']);
  assert.equal(await page.locator('#pane-c').isVisible(), true);
  assert.equal(await page.locator('#pane-q').isVisible(), false);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-q');
  assert.equal(await page.locator('#pane-q').isVisible(), true);
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-c');
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-q');
  // wider: no tabs, so the panes are plain regions named by their heads
  await page.setViewportSize({ width: 1400, height: 900 });
  await until(async () => (await page.locator('#pane-q').getAttribute('role')) === null, 'no tabpanel role');
  assert.equal(await page.locator('#pane-q').getAttribute('aria-labelledby'), 'pane-q-head');
  await page.close();
});

test('headings say what they show: the pair h1 names query and candidate', async ({ browser, base }) => {
  const page = await browser.newPage();
  await openPair(page, base, 2);
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Query #5000 paired with candidate Issue #4700' }).count(), 1);
  await openPair(page, base, 7);
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Query HIVE-123 paired with candidate Issue HIVE-99' }).count(), 1);
  await page.goto(`${base}/item/2/HIVE-99`);
  await until(async () => (await page.locator('#pane-i .item-title').count()) > 0, 'item');
  assert.equal(await page.getByRole('heading', { level: 1, name: 'Issue HIVE-99' }).count(), 1);
  await page.close();
});

run({ setup, teardown: stopAll });
