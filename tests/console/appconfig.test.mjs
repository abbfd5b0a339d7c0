// appconfig.test.mjs - the console's AppConfig, flag and deployment pages
// in a real browser against a real leverd: applications, environments and
// profiles; the hosted-version editor with leverd's own checks shown
// before anything is stored; the flag editor (rule errors from leverd's
// rule parser as you type, "try it" with its evaluator); deployments with
// the live chart, stop / revert, alarms; CSRF and authorisation of the new
// endpoints; axe-core and keyboard use on every new page.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  ROOT_KEY, ROOT_SECRET, axeViolations, cli, issuedKey, launch, newPage, shot, signIn, startLeverd,
} from './harness.mjs';

let server, chrome;
const problems = [];
const ids = {};

before(async () => {
  server = await startLeverd();
  chrome = await launch();
});

after(async () => {
  await chrome?.close();
  await server?.stop();
  assert.deepEqual(problems, [], 'no script errors or CSP violations in any page');
});

const appIdFromUrl = (url) => new URL(url.replace('#/', '')).searchParams;

test('applications, environments and profiles are created in the console', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.click('#nav a[data-section="appconfig"]');
  await page.waitForSelector('#apps-list p:has-text("No application")');
  assert.deepEqual(await axeViolations(page), [], 'applications page');
  await page.fill('#new-app-Name', 'shop');
  await page.click('#new-app-submit');
  await page.waitForSelector('h1:has-text("shop")');
  ids.app = appIdFromUrl(page.url()).get('app');
  await page.fill('#new-env-Name', 'prod');
  await page.fill('#new-env-Alarm', 'checkout-errors');
  await page.click('#new-env-submit');
  await page.waitForSelector('#envs a:has-text("prod")');
  assert.match(await page.textContent('#envs'), /checkout-errors/);
  await page.fill('#new-prof-Name', 'settings');
  await page.fill('#new-prof-Schema', JSON.stringify({ type: 'object', required: ['limit'], properties: { limit: { type: 'integer', maximum: 100 } } }));
  await page.click('#new-prof-submit');
  await page.waitForSelector('h1:has-text("settings")');
  ids.settings = appIdFromUrl(page.url()).get('profile');
  // the same through the AppConfig API: the console's calls are API calls
  const lines = server.auditLines();
  assert.ok(lines.some((l) => l.operation === 'CreateApplication' && l.key_id === ROOT_KEY && l.outcome === 'ok'));
  assert.ok(lines.some((l) => l.operation === 'CreateEnvironment' && l.outcome === 'ok'));
  await page.context().close();
});

test('the hosted-version editor shows JSON syntax and validator errors from leverd before saving', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.goto(server.url + `/console/#/profile?app=${ids.app}&profile=${ids.settings}`);
  await page.waitForSelector('#ed-content');
  await page.fill('#ed-content', '{"limit": 5,\n "x": }');
  await page.waitForSelector('#ed-content-check:has-text("line 2")');
  assert.equal(await page.getAttribute('#ed-content', 'aria-invalid'), 'true');
  await page.fill('#ed-content', '{"limit": 500}');
  await page.waitForSelector('#ed-content-check:has-text("Validators")');
  assert.match(await page.textContent('#ed-content-check'), /maximum|100/);
  await shot(page, 'appconfig-validator-error');
  await page.click('#ed-save');
  await page.waitForSelector('#ed-error:has-text("Not saved")');
  assert.ok(!server.auditLines().some((l) => l.operation === 'CreateHostedConfigurationVersion'), 'nothing stored');
  await page.fill('#ed-content', '{"limit": 50}');
  await page.waitForSelector('#ed-content-check .ok');
  await page.click('#ed-save');
  await page.waitForSelector('#versions td:text-is("1")');
  assert.deepEqual(await axeViolations(page), [], 'profile page');
  await shot(page, 'appconfig-profile');
  // deploy version 1 all at once and land on the deployment's page
  await page.selectOption('#d-strategy', 'Lever.AllAtOnce');
  await page.click('#d-start');
  await page.waitForSelector('#dep-state:has-text("COMPLETE")');
  assert.equal(await page.textContent('#dep-pct'), '100.0%');
  await page.waitForSelector('#dep-events td:has-text("DEPLOYMENT_COMPLETED")');
  await page.context().close();
});

test('the flag editor: rule errors from leverd at the field as you type, try it, save and deploy', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.goto(server.url + `/console/#/app?app=${ids.app}`);
  await page.fill('#new-prof-Name', 'flags');
  await page.selectOption('#new-prof-Type', 'AWS.AppConfig.FeatureFlags');
  await page.click('#new-prof-submit');
  await page.waitForSelector('#open-flags');
  ids.flags = appIdFromUrl(page.url()).get('profile');
  await page.click('#open-flags');
  await page.waitForSelector('#flag-new');
  await page.fill('#flag-new', 'checkout_v2');
  await page.click('#flag-add');
  await page.waitForSelector('#flag-h:has-text("checkout_v2")');
  await page.fill('#attr-new', 'color');
  await page.click('#attr-add');
  await page.waitForSelector('#flag-panel span.mono:text-is("color")');
  await page.click('#flag-mode');
  const rule = page.getByLabel('Rule', { exact: true });
  await rule.fill('(ends_with $email "qa.com"');
  await page.waitForSelector('#flag-panel .field-error:has-text("position")');
  assert.equal(await rule.getAttribute('aria-invalid'), 'true');
  await rule.fill('(endz $email "qa.com")');
  await page.waitForSelector('#flag-panel .field-error:has-text("unknown operator")');
  await shot(page, 'flag-rule-error');
  await rule.fill('(ends_with $email "qa.com")');
  await page.waitForSelector('#flag-check .ok');
  assert.equal(await page.locator('#flag-panel .field-error:not(:empty)').count(), 0);
  await page.getByLabel('Value of color').first().fill('green');
  await page.getByLabel('Enabled').first().check();
  await page.waitForSelector('#flag-check .ok');
  // try it: the draft evaluated by leverd for a context
  await page.fill('#try-context', 'email=ana@qa.com');
  await page.waitForSelector('#try-table tr[data-flag="checkout_v2"] td:has-text("Variant 1")');
  assert.match(await page.textContent('#try-table tr[data-flag="checkout_v2"]'), /TARGETING_MATCH.*"color":"green"/);
  await page.fill('#try-context', 'email=bob@example.com');
  await page.waitForSelector('#try-table tr[data-flag="checkout_v2"] td:has-text("Default")');
  await shot(page, 'flag-editor');
  assert.deepEqual(await axeViolations(page), [], 'flag editor');
  await page.click('#flag-save');
  await page.waitForSelector('#flag-saved:has-text("version 1")');
  // the stored document is the one the editor built
  const lines = server.auditLines();
  assert.ok(lines.some((l) => l.operation === 'Lever.CheckConfiguration' && l.key_id === ROOT_KEY), 'checks are audited');
  assert.ok(lines.some((l) => l.operation === 'CreateHostedConfigurationVersion' && l.outcome === 'ok'));
  await page.selectOption('#d-strategy', 'Lever.AllAtOnce');
  await page.click('#d-start');
  await page.waitForSelector('#dep-state:has-text("COMPLETE")');
  await page.waitForSelector('#dep-chart svg');
  await shot(page, 'deployment');
  assert.deepEqual(await axeViolations(page), [], 'deployment page');
  // revert the complete deployment
  await page.click('#dep-revert');
  await page.waitForSelector('#dep-state:has-text("REVERTED")');
  await page.waitForSelector('#dep-events td:has-text("REVERT_COMPLETED")');
  await page.context().close();
});

// A console call from inside the page (same origin, the session's cookie).
const inPage = (page, url, init) => page.evaluate(async ([u, i]) => {
  const s = await (await fetch('/console/session')).json();
  const r = await fetch(u, { method: 'POST', ...i, headers: { 'X-Lever-Csrf': s.CsrfToken, ...(i?.headers || {}) } });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}, [url, init]);

test('the parameter tree lists one level at a time and pages through 1000 children', async () => {
  // 1,203 direct children (1,200 parameters + 3 folders), one folder deep
  const lines = [];
  for (let i = 0; i < 1200; i++) lines.push(`p${String(i).padStart(4, '0')}=v`);
  for (let i = 0; i < 300; i++) lines.push(`deep/x${i}=v`);
  lines.push('aa/b=v', 'zz/c/d=v');
  const file = join(server.data, 'wide.env');
  writeFileSync(file, lines.join('\n') + '\n');
  await cli(server, ['import', '/wide', file, '--format', 'dotenv', '--apply']);
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.goto(server.url + '/console/#/parameters?path=/wide');
  await page.waitForSelector('#tree-list caption:has-text("1000 item(s)")');
  assert.deepEqual(await page.locator('#tree-list td a').evaluateAll((as) => as.slice(0, 3).map((a) => a.textContent)),
    ['aa/', 'deep/', '/wide/p0000'], 'a page\'s folders, then its parameters, in name order');
  assert.equal(await page.locator('#tree-list a:text-is("zz/")').count(), 0, 'zz/ is on the second page');
  await page.click('#tree-more');
  await page.waitForSelector('#tree-list caption:has-text("1203 item(s)")');
  assert.equal(await page.isHidden('#tree-more'), true);
  for (const f of ['aa/', 'deep/', 'zz/']) assert.equal(await page.locator(`#tree-list a:text-is("${f}")`).count(), 1, f);
  // the endpoint itself: paging, bad tokens, folders
  let r = await inPage(page, '/console/api/Lever.ListPathChildren', { body: JSON.stringify({ Path: '/wide/', MaxResults: 2 }) });
  assert.equal(r.status, 200);
  assert.deepEqual(r.body.Folders.map((p) => p.Name), ['/wide/aa', '/wide/deep'], 'a folder costs one child');
  assert.deepEqual(r.body.Parameters, []);
  r = await inPage(page, '/console/api/Lever.ListPathChildren', { body: JSON.stringify({ Path: '/wide/', MaxResults: 2, NextToken: r.body.NextToken }) });
  assert.deepEqual(r.body.Parameters.map((p) => p.Name), ['/wide/p0000', '/wide/p0001']);
  assert.equal(r.body.Parameters[0].Type, 'String');
  r = await inPage(page, '/console/api/Lever.ListPathChildren', { body: JSON.stringify({ Path: '/other', NextToken: r.body.NextToken }) });
  assert.equal(r.status, 400);
  assert.equal(r.body.__type, 'InvalidNextToken');
  r = await inPage(page, '/console/api/Lever.ListPathChildren', { body: JSON.stringify({ Path: 'no-slash' }) });
  assert.equal(r.status, 400);
  r = await inPage(page, '/console/api/Lever.ListPathChildren', { body: JSON.stringify({ Path: '/', MaxResults: 1001 }) });
  assert.equal(r.status, 400);
  await page.context().close();
});

test('the new endpoints are authorised and audited as the key\'s API calls, with CSRF', async () => {
  const S = 'arn:aws:ssm:us-east-1:000000000000:parameter';
  const [akid, secret] = await issuedKey(server, {
    Version: '2012-10-17', Statement: [
      { Effect: 'Allow', Action: ['ssm:DescribeParameters', 'appconfig:ListApplications'], Resource: '*' },
      { Effect: 'Deny', Action: '*', Resource: S + '/wide/deep/*' }],
  });
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, akid, secret);
  // a folder whose every parameter is explicitly denied does not show
  let r = await inPage(page, '/console/api/Lever.ListPathChildren', { body: JSON.stringify({ Path: '/wide', MaxResults: 1000, NextToken: undefined }) });
  assert.equal(r.status, 200);
  const all = [];
  let token;
  do {
    r = await inPage(page, '/console/api/Lever.ListPathChildren', { body: JSON.stringify({ Path: '/wide', MaxResults: 1000, ...(token ? { NextToken: token } : {}) }) });
    all.push(...r.body.Folders.map((f) => f.Name));
    token = r.body.NextToken;
  } while (token);
  assert.deepEqual(all, ['/wide/aa', '/wide/zz']);
  // checking a draft needs lever:CheckConfiguration on the profile, refused and audited
  r = await inPage(page, '/console/api/Lever.CheckConfiguration', { body: JSON.stringify({ Application: ids.app, ConfigurationProfile: ids.flags, Content: '{}' }) });
  assert.equal(r.status, 400);
  assert.equal(r.body.__type, 'AccessDeniedException');
  assert.match(r.body.message, /lever:CheckConfiguration/);
  assert.ok(server.auditLines().some((l) => l.key_id === akid && l.operation === 'Lever.CheckConfiguration' && l.outcome === 'denied'));
  // AppConfig through the console: allowed list, refused create (nothing written)
  r = await page.evaluate(async () => {
    const s = await (await fetch('/console/session')).json();
    const h = { 'X-Lever-Csrf': s.CsrfToken, 'Content-Type': 'application/json' };
    const list = await fetch('/console/ac/applications', { headers: h });
    const make = await fetch('/console/ac/applications', { method: 'POST', headers: h, body: '{"Name":"nope"}' });
    const bare = await fetch('/console/ac/applications', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"Name":"nope"}' });
    const elsewhere = await fetch('/console/ac/healthz', { headers: h });
    return [list.status, make.status, bare.status, elsewhere.status];
  });
  assert.deepEqual(r, [200, 403, 403, 404]);
  assert.ok(server.auditLines().some((l) => l.key_id === akid && l.operation === 'CreateApplication' && l.outcome === 'denied'));
  const apps = JSON.parse(await cli(server, ['-o', 'json', 'appconfig', 'ls']));
  assert.ok(apps.some((a) => a.Name === 'shop') && !apps.some((a) => a.Name === 'nope'));
  await page.context().close();
});

test('alarms of an environment\'s monitors: state shown and set from the console', async () => {
  await cli(server, ['alarm', 'put', 'checkout-errors']);
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.click('#nav a[data-section="deployments"]');
  await page.waitForSelector('main a:has-text("Environment prod")');
  assert.deepEqual(await axeViolations(page), [], 'deployments page');
  await page.click('main a:has-text("Environment prod")');
  await page.waitForSelector('#alarm-table tr[data-alarm="checkout-errors"]');
  await page.click('button[aria-label="Set checkout-errors to ALARM"]');
  await page.waitForSelector('#alarm-table tr[data-alarm="checkout-errors"] .pill:text-is("ALARM")');
  assert.match(await cli(server, ['alarm', 'ls', 'checkout-errors']), /ALARM/);
  assert.ok(server.auditLines().some((l) => l.operation === 'Lever.SetAlarmState' && l.names.includes('checkout-errors') && l.key_id === ROOT_KEY));
  assert.deepEqual(await axeViolations(page), [], 'environment page');
  await shot(page, 'environment-alarms');
  await page.click('button[aria-label="Set checkout-errors to OK"]');
  await page.waitForSelector('#alarm-table tr[data-alarm="checkout-errors"] .pill:text-is("OK")');
  await page.context().close();
});

test('keyboard: the new pages\' controls are reached with Tab, and the flag list page passes axe', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.goto(server.url + '/console/#/flags');
  await page.waitForSelector('#flag-profiles a');
  assert.deepEqual(await axeViolations(page), [], 'flag profiles page');
  const tabbed = async (want, n) => {
    const reached = new Set();
    for (let i = 0; i < n; i++) {
      await page.keyboard.press('Tab');
      reached.add(await page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim()));
    }
    for (const w of want) assert.ok(reached.has(w), 'Tab reaches ' + w + ' (reached: ' + [...reached].join(', ') + ')');
  };
  await page.focus('#flag-profiles a');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#flag-h');
  await page.focus('#flag-new');
  await tabbed(['flag-add', 'attr-new', 'attr-add', 'variant-add', 'flag-mode', 'try-context', 'try-entity', 'try-run', 'flag-desc', 'flag-save', 'd-env', 'd-version', 'd-strategy', 'd-start'], 40);
  // add a flag and evaluate it without the mouse
  await page.focus('#flag-new');
  await page.keyboard.type('kb_flag');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#flag-h:has-text("kb_flag")');
  await page.focus('#try-run');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#try-table tr[data-flag="kb_flag"]');
  await page.goto(server.url + `/console/#/profile?app=${ids.app}&profile=${ids.settings}`);
  await page.waitForSelector('#ed-content');
  await page.focus('#ed-ctype');
  await tabbed(['ed-desc', 'ed-content', 'ed-check', 'ed-save', 'd-env', 'd-start'], 20);
  await page.context().close();
});
