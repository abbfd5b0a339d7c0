// pageload.mjs - bench/console.sh's browser side: signs in once, then
// loads the parameter page of a path with 1,000 children in a fresh page
// R times and asks the browser how long it took from navigation start to
// the rows being painted (the frame after the table is in the document,
// seen by a MutationObserver installed before the page runs),
// and how long the ListPathChildren call took (resource timing). Prints a
// markdown section.
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const here = new URL('.', import.meta.url).pathname;
const require = createRequire(join(resolve(here, '..', '..'), 'tests', 'console', 'package.json'));
const { chromium } = require('playwright-core');
const { values: a } = parseArgs({ options: { url: { type: 'string' }, key: { type: 'string' }, secret: { type: 'string' },
  rounds: { type: 'string' }, params: { type: 'string' }, mode: { type: 'string' } } });

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const login = await ctx.newPage();
await login.goto(a.url + '/console/');
await login.fill('#akid', a.key);
await login.fill('#secret', a.secret);
await login.click('#signin-submit');
await login.waitForSelector('#who:not([hidden])');
await login.close();

// Installed before the page's own scripts (through the DevTools protocol,
// outside the page's CSP): the time of the first frame after the 1,000
// rows are in the document.
const probe = () => {
  const done = new Promise((res) => {
    const check = () => {
      const c = document.querySelector('#tree-list caption');
      if (c && c.textContent.startsWith('1000 item')) {
        obs.disconnect();
        requestAnimationFrame(() => setTimeout(() => res(performance.now()), 0));
      }
    };
    const obs = new MutationObserver(check);
    document.addEventListener('DOMContentLoaded', () => { obs.observe(document.body, { childList: true, subtree: true, characterData: true }); check(); });
  });
  globalThis.__painted = done;
};
await ctx.addInitScript(probe);
const paint = [], call = [], start = [], render = [], dcl = [];
for (let i = 0; i < Number(a.rounds); i++) {
  const page = await ctx.newPage();
  await page.goto(a.url + '/console/#/parameters?path=/bench/wide');
  await page.waitForSelector('#tree-list caption:has-text("1000 item(s)")');
  const t = await page.evaluate(async () => {
    const at = await globalThis.__painted;
    const r = performance.getEntriesByType('resource').find((e) => e.name.endsWith('Lever.ListPathChildren'));
    const nav = performance.getEntriesByType('navigation')[0];
    return { paint: at, call: r ? r.duration : -1, start: r ? r.startTime : -1, answered: r ? r.responseEnd : -1,
      dcl: nav ? nav.domContentLoadedEventEnd : -1 };
  });
  paint.push(t.paint);
  call.push(t.call);
  start.push(t.start);
  render.push(t.paint - t.answered);
  dcl.push(t.dcl);
  await page.close();
}
await browser.close();
const med = (xs) => { const s = [...xs].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const f = (x) => x.toFixed(0) + ' ms';
console.log(`## Console page load (${a.mode})

${Number(a.params).toLocaleString('en')} parameters in leverd; \`/console/#/parameters?path=/bench/wide\` (1,000 children)
loaded ${a.rounds} times in a fresh page of Debian's chromium (headless, signed in), measured by the browser.

| measure | median | min | max | target |
|---|---|---|---|---|
| navigation start -> 1,000 rows painted | ${f(med(paint))} | ${f(Math.min(...paint))} | ${f(Math.max(...paint))} | < 1 s |
| Lever.ListPathChildren (1,000 children) | ${f(med(call))} | ${f(Math.min(...call))} | ${f(Math.max(...call))} | |

Where the time goes (medians): the page's HTML parsed (DOMContentLoaded) at ${f(med(dcl))}; the
ListPathChildren call starts at ${f(med(start))} (after the page's modules and GET /console/session);
the rows are painted ${f(med(render))} after its answer (JSON parse, 1,000 rows built and laid out).
`);
