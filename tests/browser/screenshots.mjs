// screenshots.mjs -- not a test: writes screenshots of the index and a pair
// at 1400 and 700 px (light and dark) for a human to look at.
//   node tests/browser/screenshots.mjs OUTDIR [STORE.db]
// Without STORE.db it serves a fresh fixture store.
import { makeStore, serve, launch } from './lib.mjs';

const out = process.argv[2] || '/tmp';
const db = process.argv[3] || makeStore('shots.db');
const srv = await serve(db);
const browser = await launch();
try {
  for (const scheme of ['light', 'dark']) {
    for (const width of [1400, 700]) {
      const page = await browser.newPage({ viewport: { width, height: 900 }, colorScheme: scheme });
      const shot = async (name) => {
        await new Promise((r) => setTimeout(r, 300));
        await page.screenshot({ path: `${out}/doppel-${name}-${width}-${scheme}.png` });
      };
      await page.goto(`${srv.url}/`);
      await page.waitForSelector('#pairs tbody tr');
      await shot('index');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#pane-q .item-title');
      await shot('pair');
      await page.keyboard.press('r');
      await shot('reasoning');
      await page.keyboard.press('r');
      await page.keyboard.press('?');
      await shot('help');
      await page.close();
    }
  }
} finally {
  await browser.close();
  await srv.stop();
}
console.log(`screenshots in ${out}`);
