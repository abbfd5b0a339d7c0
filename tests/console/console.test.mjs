// console.test.mjs - lever's web console in a real browser (Debian's
// chromium via playwright-core) against a real leverd: sign-in, the
// parameter pages, SecureString reveal by permission, the audit view,
// CSRF and session expiry, live updates, accessibility and keyboard use.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ROOT_KEY, ROOT_SECRET, axeViolations, cli, issuedKey, launch, newPage, shot, signIn, startLeverd, until,
} from './harness.mjs';

let server, chrome;
const problems = [];
const P = 'arn:aws:ssm:us-east-1:000000000000:parameter';
const READ = ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParameterHistory', 'ssm:GetParametersByPath', 'ssm:DescribeParameters'];

before(async () => {
  server = await startLeverd();
  chrome = await launch();
});

after(async () => {
  await chrome?.close();
  await server?.stop();
  assert.deepEqual(problems, [], 'no script errors or CSP violations in any page');
});

test('the console is served by leverd with a strict CSP and no inline script', async () => {
  const r = await fetch(server.url + '/console/');
  assert.equal(r.status, 200);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const html = await r.text();
  assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'every script is a file');
  assert.doesNotMatch(html, /https?:\/\//, 'nothing from another origin');
  const js = await fetch(server.url + '/console/js/app.js');
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type'), /^text\/javascript/);
  assert.equal((await fetch(server.url + '/console/nope.js')).status, 404);
  const redirect = await fetch(server.url + '/console', { redirect: 'manual' });
  assert.equal(redirect.status, 308);
});

test('a failed sign-in is refused and says so; repeated failures are throttled', async () => {
  const page = await newPage(chrome.browser, problems);
  await page.goto(server.url + '/console/');
  await page.fill('#akid', ROOT_KEY);
  await page.fill('#secret', 'not-the-secret');
  await page.click('#signin-submit');
  await page.waitForSelector('#signin-error:has-text("not valid")');
  assert.equal(await page.isHidden('#nav'), true);
  await shot(page, 'signin-failed');
  // five failures for one key id, then 429 with Retry-After
  const bogus = 'LVAKTHROTTLEDKEY0001';
  const codes = [];
  for (let i = 0; i < 6; i++) {
    const r = await fetch(server.url + '/console/signin', { method: 'POST', body: JSON.stringify({ AccessKeyId: bogus, SecretAccessKey: 'x' + i }) });
    codes.push(r.status);
    if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) > 0);
  }
  assert.deepEqual(codes, [401, 401, 401, 401, 401, 429]);
  // malformed bodies are refused before any lookup
  const bad = await fetch(server.url + '/console/signin', { method: 'POST', body: '{"AccessKeyId":1}' });
  assert.equal(bad.status, 400);
  const lines = server.auditLines().filter((l) => l.operation === 'Console.SignIn');
  assert.ok(lines.some((l) => l.key_id === ROOT_KEY && l.outcome === 'denied'));
  assert.ok(lines.some((l) => l.key_id === bogus && l.outcome === 'throttled'));
  await page.context().close();
});

test('sign in, create and edit a parameter, see the diff, attach and move a label', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === 'lever_console');
  assert.ok(c, 'session cookie set');
  assert.equal(c.httpOnly, true);
  assert.equal(c.sameSite, 'Strict');
  assert.equal(c.path, '/console');
  assert.ok(c.expires > Date.now() / 1000, 'the cookie expires');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session cookie');

  await page.click('#new-param');
  await page.fill('#p-name', '/app/db/url');
  await page.fill('#p-value', 'postgres://db1/orders\npool=5');
  // the server's validation error is shown inline
  await page.fill('#p-pattern', '^https://.*$');
  await page.click('#p-create');
  await page.waitForSelector('#p-error:has-text("ParameterPatternMismatchException")');
  await shot(page, 'create-validation-error');
  await page.fill('#p-pattern', '');
  await page.click('#p-create');
  await page.waitForSelector('#versions');
  assert.equal(await page.textContent('#param-version'), '1');

  await page.fill('#edit-value', 'postgres://db2/orders\npool=5');
  await page.click('#edit-save');
  await page.waitForSelector('#param-version:has-text("2")');
  await page.selectOption('#diff-from', '1');
  await page.selectOption('#diff-to', '2');
  assert.equal(await page.textContent('#diff-out .del'), '- postgres://db1/orders');
  assert.equal(await page.textContent('#diff-out .ins'), '+ postgres://db2/orders');
  assert.match(await page.textContent('#diff-out'), /pool=5/);

  await page.fill('#label-name', 'prod');
  await page.selectOption('#label-version', '1');
  await page.click('#label-attach');
  await page.waitForSelector('#versions tr:has(td:text-is("1")) .pill:has-text("prod")');
  await page.fill('#label-name', 'prod');
  await page.selectOption('#label-version', '2');
  await page.click('#label-attach');
  await page.waitForSelector('#versions tr:has(td:text-is("2")) .pill:has-text("prod")');
  assert.equal(await page.locator('#versions tr:has(td:text-is("1")) .pill').count(), 0, 'the label moved');
  assert.equal((await cli(server, ['get', '/app/db/url:prod'])).trim(), 'postgres://db2/orders\npool=5');
  await shot(page, 'parameter-diff');

  // tree and search
  await page.goto(server.url + '/console/#/parameters?path=/app');
  await page.waitForSelector('#tree-list a:has-text("db/")');
  await page.fill('#search', 'db/u');
  await page.press('#search', 'Enter');
  await page.waitForSelector('#tree-list a:has-text("/app/db/url")');
  await page.context().close();
});

test('a SecureString is hidden until revealed, and only a key allowed kms:Decrypt can reveal it', async () => {
  await cli(server, ['put', '/app/secret/token', 's3cr3t-value', '--type', 'SecureString']);
  const root = await newPage(chrome.browser, problems);
  await signIn(root, server.url, ROOT_KEY, ROOT_SECRET);
  await root.goto(server.url + '/console/#/parameter?name=/app/secret/token');
  await root.waitForSelector('#param-value');
  assert.doesNotMatch(await root.content(), /s3cr3t-value/, 'not in the page before reveal');
  await root.click('#reveal');
  await root.waitForSelector('#param-value:has-text("s3cr3t-value")');
  await root.context().close();

  const [noDecrypt, nsecret] = await issuedKey(server, {
    Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: READ, Resource: '*' }],
  });
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, noDecrypt, nsecret);
  await page.goto(server.url + '/console/#/parameter?name=/app/secret/token');
  await page.waitForSelector('#param-value');
  await page.click('#reveal');
  await page.waitForSelector('#reveal-error:has-text("kms:Decrypt")');
  assert.doesNotMatch(await page.content(), /s3cr3t-value/);
  await shot(page, 'reveal-denied');
  assert.equal(await page.isHidden('#nav-keys'), true, 'no key management for an issued key');
  await page.context().close();

  const [withDecrypt, wsecret] = await issuedKey(server, {
    Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: READ, Resource: '*' },
      { Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }],
  });
  const ok = await newPage(chrome.browser, problems);
  await signIn(ok, server.url, withDecrypt, wsecret);
  await ok.goto(server.url + '/console/#/parameter?name=/app/secret/token');
  await ok.click('#reveal');
  await ok.waitForSelector('#param-value:has-text("s3cr3t-value")');
  await ok.context().close();

  // the same refusal for the same key through the API: the console adds nothing
  const denied = server.auditLines().filter((l) => l.key_id === noDecrypt && l.outcome === 'denied');
  assert.ok(denied.some((l) => l.operation === 'GetParameter' && l.names.includes('/app/secret/token')));
  await assert.rejects(cli(server, ['get', '/app/secret/token'], { key: noDecrypt, secret: nsecret }), /kms:Decrypt/);
});

test('the audit view finds the console actions, with filters', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.click('#nav a[data-section="audit"]');
  await page.waitForSelector('#audit-list table');
  await page.fill('#a-prefix', '/app/db');
  await page.fill('#a-op', 'PutParameter');
  await page.click('#a-apply');
  await page.waitForSelector('#audit-list caption:has-text("3 event(s)")'); // the refused create, v1, v2
  const rows = await page.locator('#audit-list tbody tr').allTextContents();
  assert.ok(rows.every((r) => r.includes('PutParameter') && r.includes('/app/db/url')));
  assert.ok(rows.some((r) => r.includes('ParameterPatternMismatchException')));
  await page.fill('#a-prefix', '');
  await page.fill('#a-op', 'LabelParameterVersion');
  await page.click('#a-apply');
  await page.waitForSelector('#audit-list caption:has-text("2 event(s)")');
  await page.fill('#a-op', '');
  await page.selectOption('#a-outcome', 'denied');
  await page.click('#a-apply');
  await page.waitForSelector('#audit-list td:has-text("GetParameter")');
  await page.selectOption('#a-outcome', '');
  await page.click('#a-apply');
  await page.waitForSelector('#audit-list td:has-text("Console.SignIn")');
  await shot(page, 'audit');
  // a write by another client shows up without a reload
  await page.fill('#a-prefix', '/audit/live');
  await page.click('#a-apply');
  await page.waitForSelector('#audit-list p:has-text("No event")');
  await cli(server, ['put', '/audit/live/x', '1']);
  await page.waitForSelector('#audit-list td:has-text("/audit/live/x")');
  // the console's own calls are in the log as the key's API calls
  const lines = server.auditLines();
  assert.ok(lines.some((l) => l.operation === 'PutParameter' && l.names[0] === '/app/db/url' && l.key_id === ROOT_KEY && l.outcome === 'ok'));
  assert.ok(!lines.some((l) => l.operation === 'Lever.DescribeAuditEvents'), 'reading the log is a read, not audited');
  await page.context().close();
});

test('state-changing requests need the CSRF token; signed-out and expired sessions are refused', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  const req = page.context().request; // shares the browser's cookies
  const put = (headers) => req.post(server.url + '/console/api/AmazonSSM.PutParameter', {
    headers, data: { Name: '/csrf/x', Value: 'v', Type: 'String', Overwrite: true },
  });
  let r = await put({});
  assert.equal(r.status(), 403);
  assert.equal((await r.json()).__type, 'InvalidCsrfToken');
  r = await put({ 'X-Lever-Csrf': '0'.repeat(64) });
  assert.equal(r.status(), 403);
  const token = await page.evaluate(async () => (await (await fetch('/console/session')).json()).CsrfToken);
  r = await put({ 'X-Lever-Csrf': token, 'Sec-Fetch-Site': 'cross-site' });
  assert.equal(r.status(), 403, 'a cross-site request is refused even with the token');
  r = await put({ 'X-Lever-Csrf': token });
  assert.equal(r.status(), 200);
  await assert.rejects(cli(server, ['get', '/csrf/y']));
  assert.equal((await cli(server, ['get', '/csrf/x'])).trim(), 'v');
  // without the cookie at all
  const bare = await fetch(server.url + '/console/api/AmazonSSM.GetParameter', { method: 'POST', headers: { 'X-Lever-Csrf': token }, body: '{"Name":"/csrf/x"}' });
  assert.equal(bare.status, 401);
  // sign out ends the session on the server
  await page.click('#signout');
  await page.waitForSelector('#signin-form');
  r = await req.post(server.url + '/console/api/AmazonSSM.GetParameter', { headers: { 'X-Lever-Csrf': token }, data: { Name: '/csrf/x' } });
  assert.equal(r.status(), 401);
  await page.context().close();

  // short lifetimes on a second server: idle, then absolute
  const short = await startLeverd(['--console-idle', '2', '--console-lifetime', '4']);
  try {
    const p = await newPage(chrome.browser, problems);
    await signIn(p, short.url, ROOT_KEY, ROOT_SECRET);
    const api = () => p.evaluate(async () => (await fetch('/console/session')).status);
    assert.equal(await api(), 200);
    // kept alive by use (every 0.5 s) until the absolute lifetime ends it
    const t0 = Date.now();
    await until(async () => { await new Promise((res) => setTimeout(res, 500)); return (await api()) === 401; }, 'absolute expiry', 8000);
    assert.ok(Date.now() - t0 >= 2500, 'use kept the session past its idle time');
    // idle: a new session unused for 2 s is gone; the page says so
    await signIn(p, short.url, ROOT_KEY, ROOT_SECRET);
    await p.evaluate(() => { location.hash = '#/parameters'; });
    await until(async () => (await p.context().request.post(short.url + '/console/api/AmazonSSM.DescribeParameters',
      { headers: { 'X-Lever-Csrf': 'x' }, data: {} })).status() === 401, 'idle expiry', 6000);
    await p.click('#nav a[data-section="audit"]');
    await p.waitForSelector('#signin-error:has-text("session has ended")');
    await shot(p, 'session-expired');
    await p.context().close();
  } finally {
    await short.stop();
  }
});

test('pages update by themselves after a write by another client', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await cli(server, ['put', '/live/a', 'one']);
  await page.goto(server.url + '/console/#/parameters?path=/live');
  await page.waitForSelector('#tree-list a:has-text("/live/a")');
  await cli(server, ['put', '/live/b', 'two']);
  await page.waitForSelector('#tree-list a:has-text("/live/b")', { timeout: 10000 });
  await page.click('#tree-list a:has-text("/live/a")');
  await page.waitForSelector('#param-version:has-text("1")');
  await cli(server, ['put', '/live/a', 'one, changed', '--overwrite']);
  await page.waitForSelector('#param-version:has-text("2")', { timeout: 10000 });
  assert.equal(await page.textContent('#param-value'), 'one, changed');
  await page.context().close();
});

test('keys and policies for root: create a key, attach a policy, see a malformed one refused', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.click('#nav-keys');
  await page.fill('#k-desc', 'made in the console');
  await page.click('#k-create');
  const akid = (await page.textContent('#k-new-id')).trim();
  const secret = (await page.textContent('#k-new-secret')).trim();
  assert.match(akid, /^LVAK/);
  const card = page.locator(`section[data-key="${akid}"]`);
  await card.locator('input').fill('bad');
  await card.locator('textarea').fill('{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"*","Resource":"*"}]}');
  await card.locator('button:has-text("Attach policy")').click();
  await page.waitForSelector(`section[data-key="${akid}"] .error:has-text("MalformedPolicyDocumentException")`);
  await card.locator('input').fill('read');
  await card.locator('textarea').fill(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ssm:GetParameter', Resource: P + '/app/*' }] }));
  await card.locator('button:has-text("Attach policy")').click();
  await page.waitForSelector(`section[data-key="${akid}"] strong:has-text("read")`);
  await shot(page, 'keys');
  assert.equal((await cli(server, ['get', '/app/db/url'], { key: akid, secret })).trim(), 'postgres://db2/orders\npool=5');
  // an issued key cannot use the admin operations through the console
  const p2 = await newPage(chrome.browser, problems);
  await signIn(p2, server.url, akid, secret);
  await p2.goto(server.url + '/console/#/keys');
  await p2.waitForSelector('#keys-list .error:has-text("Only the root key")');
  // disabling the key ends its console session
  await card.locator('button:has-text("Disable")').click();
  await page.waitForSelector(`section[data-key="${akid}"] .pill:has-text("Inactive")`);
  const st = await p2.evaluate(async () => (await fetch('/console/session')).status);
  assert.equal(st, 401);
  await p2.context().close();
  await page.context().close();
});

test('accessibility: no serious or critical axe violation; main actions by keyboard', async () => {
  const page = await newPage(chrome.browser, problems);
  await page.goto(server.url + '/console/');
  await page.waitForSelector('#signin-form');
  assert.deepEqual(await axeViolations(page), [], 'sign-in page');
  // sign in with the keyboard only: the key id field has the focus
  assert.equal(await page.evaluate(() => document.activeElement.id), 'akid');
  await page.keyboard.type(ROOT_KEY);
  await page.keyboard.press('Tab');
  await page.keyboard.type(ROOT_SECRET);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#tree-list table');
  assert.deepEqual(await axeViolations(page), [], 'parameter tree');
  await shot(page, 'tree');
  // every main action is a focusable control, reached with Tab from the
  // top of the page (a reload keeps the session)
  await page.reload();
  await page.waitForSelector('#tree-list table');
  const reached = new Set();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim()));
  }
  for (const want of ['Parameters', 'Audit', 'nav-keys', 'AppConfig', 'signout', 'search', 'new-param', 'app/'])
    assert.ok(reached.has(want), 'Tab reaches ' + want + ' (reached: ' + [...reached].join(', ') + ')');
  // open a parameter and reveal it from the keyboard
  await page.goto(server.url + '/console/#/parameters?path=/app/secret');
  await page.waitForSelector('#tree-list a:has-text("/app/secret/token")');
  await page.focus('#tree-list a:has-text("/app/secret/token")');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#reveal');
  assert.deepEqual(await axeViolations(page), [], 'parameter page');
  await page.focus('#reveal');
  await page.keyboard.press('Space');
  await page.waitForSelector('#param-value:has-text("s3cr3t-value")');
  await page.goto(server.url + '/console/#/parameter?name=/app/db/url');
  await page.waitForSelector('#versions');
  assert.deepEqual(await axeViolations(page), [], 'parameter with versions');
  await page.goto(server.url + '/console/#/audit');
  await page.waitForSelector('#audit-list table');
  assert.deepEqual(await axeViolations(page), [], 'audit view');
  await page.goto(server.url + '/console/#/keys');
  await page.waitForSelector('#keys-list section');
  assert.deepEqual(await axeViolations(page), [], 'keys page');
  await page.goto(server.url + '/console/#/new?path=/app');
  await page.waitForSelector('#p-name');
  assert.deepEqual(await axeViolations(page), [], 'new parameter form');
  await page.goto(server.url + '/console/#/flags');
  assert.deepEqual(await axeViolations(page), [], 'placeholder page');
  await page.context().close();
});
