// harness.mjs - what the console's browser tests share: a real leverd on a
// free loopback port with a fresh data directory, the real `lever` CLI as
// a second client, Debian's chromium driven by playwright-core, axe-core.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = new URL('.', import.meta.url).pathname;
export const REPO = resolve(here, '..', '..');
export const BUILD = process.env.LEVER_BUILD_DIR || join(REPO, 'build');
export const ROOT_KEY = 'AKIACONSOLETEST00001';
export const ROOT_SECRET = 'consoleTestSecret/0123456789abcdefghijklm';
export const SHOTS = process.env.LEVER_CONSOLE_SHOTS || join(BUILD, 'console-screenshots');
mkdirSync(SHOTS, { recursive: true });

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

export async function startLeverd(args = []) {
  const data = mkdtempSync(join(tmpdir(), 'lever-console-'));
  const port = await freePort();
  const log = [];
  const proc = spawn(join(BUILD, 'leverd'), ['--data', data, '--listen', '127.0.0.1:' + port, ...args], {
    env: { ...process.env, LEVER_ROOT_ACCESS_KEY_ID: ROOT_KEY, LEVER_ROOT_SECRET_ACCESS_KEY: ROOT_SECRET },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => log.push(String(d)));
  proc.stderr.on('data', (d) => log.push(String(d)));
  const url = 'http://127.0.0.1:' + port;
  const deadline = Date.now() + 20000;
  for (;;) {
    try { if ((await fetch(url + '/healthz')).ok) break; } catch { /* not yet */ }
    if (proc.exitCode !== null || Date.now() > deadline) throw new Error('leverd did not start:\n' + log.join(''));
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, data, log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(data, { recursive: true, force: true });
    },
    auditLines() {
      return readFileSync(join(data, 'audit.log'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
  };
}

// The lever CLI as the root key (or another), a client independent of the browser.
export async function cli(server, args, { key = ROOT_KEY, secret = ROOT_SECRET, input } = {}) {
  const run = promisify(execFile);
  const env = { PATH: '/usr/bin:/bin', AWS_ACCESS_KEY_ID: key, AWS_SECRET_ACCESS_KEY: secret, AWS_REGION: 'us-east-1', LEVER_ENDPOINT: server.url };
  if (input === undefined) return (await run(join(BUILD, 'lever'), args, { env })).stdout;
  return new Promise((res, rej) => {
    const p = execFile(join(BUILD, 'lever'), args, { env }, (e, out, err) => (e ? rej(new Error(err || e.message)) : res(out)));
    p.stdin.end(input);
  });
}

// An issued key with one policy, made with the CLI: [akid, secret].
export async function issuedKey(server, policy) {
  const out = await cli(server, ['-o', 'json', 'admin', 'create-key', '--description', 'console test']);
  const j = JSON.parse(out);
  const k = j.AccessKey || j;
  await cli(server, ['admin', 'put-policy', k.AccessKeyId, 'p', '-'], { input: JSON.stringify(policy) });
  return [k.AccessKeyId, k.SecretAccessKey];
}

// playwright-core starts chromium with a new, empty profile directory of
// its own (it refuses --user-data-dir in launch()), removed at close.
export async function launch() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    browser,
    async close() { await browser.close(); },
  };
}

// A page that fails the test on any script error or CSP violation.
export async function newPage(browser, problems) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[0-9]/.test(m.text())) problems.push('console error: ' + m.text());
  });
  return page;
}

export async function signIn(page, url, key, secret) {
  await page.goto(url + '/console/');
  await page.fill('#akid', key);
  await page.fill('#secret', secret);
  await page.click('#signin-submit');
  await page.waitForSelector('#who:not([hidden])');
}

const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// axe-core's serious and critical violations on the page as it is. The
// source goes in through the DevTools protocol, which the page's CSP does
// not govern, so the CSP under test stays as it is.
export async function axeViolations(page) {
  await page.evaluate(AXE);
  const r = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.help + ' (' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ') + ')');
}

export async function shot(page, name) {
  await page.screenshot({ path: join(SHOTS, name + '.png'), fullPage: true });
}

export async function until(fn, what, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}
