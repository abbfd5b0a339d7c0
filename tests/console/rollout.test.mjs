// rollout.test.mjs - the console's deployment page against deployments
// that grow (leverd --time-scale 600: a strategy minute is 100 ms): edit a
// flag and deploy it, watch the chart reach 100 %; fire the environment's
// alarm from the console during another deployment and see it roll back.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ROOT_KEY, ROOT_SECRET, axeViolations, cli, launch, newPage, shot, signIn, startLeverd } from './harness.mjs';

let server, chrome;
const problems = [];
const ids = {};

before(async () => {
  server = await startLeverd(['--time-scale', '600']);
  chrome = await launch();
});

after(async () => {
  await chrome?.close();
  await server?.stop();
  assert.deepEqual(problems, [], 'no script errors or CSP violations in any page');
});

// An AppConfig call from the signed-in page (the console's own proxy).
const acCall = (page, method, path, body, headers = {}) => page.evaluate(async ([m, p, b, hs]) => {
  const s = await (await fetch('/console/session')).json();
  const r = await fetch('/console/ac' + p, { method: m, body: typeof b === 'string' ? b : JSON.stringify(b),
    headers: { 'X-Lever-Csrf': s.CsrfToken, 'Content-Type': 'application/json', ...hs } });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}, [method, path, body, headers]);

test('edit a flag, deploy it gradually, watch the chart reach 100 %; an alarm rolls the next one back', async () => {
  await cli(server, ['alarm', 'put', 'checkout-errors']);
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  const app = (await acCall(page, 'POST', '/applications', { Name: 'shop' })).body.Id;
  const env = (await acCall(page, 'POST', `/applications/${app}/environments`, {
    Name: 'prod', Monitors: [{ AlarmArn: 'arn:aws:cloudwatch:us-east-1:000000000000:alarm:checkout-errors' }] })).body.Id;
  const prof = (await acCall(page, 'POST', `/applications/${app}/configurationprofiles`, {
    Name: 'flags', LocationUri: 'hosted', Type: 'AWS.AppConfig.FeatureFlags' })).body.Id;
  Object.assign(ids, { app, env, prof });
  const doc = { version: '1', flags: { checkout_v2: { name: 'Checkout v2' } }, values: { checkout_v2: { enabled: false } } };
  assert.equal((await acCall(page, 'POST', `/applications/${app}/configurationprofiles/${prof}/hostedconfigurationversions`, JSON.stringify(doc))).status, 201);
  // version 1 live everywhere first, so the next deployment has a "from"
  let r = await acCall(page, 'POST', `/applications/${app}/environments/${env}/deployments`,
    { DeploymentStrategyId: 'Lever.AllAtOnce', ConfigurationProfileId: prof, ConfigurationVersion: '1' });
  assert.equal(r.status, 201);

  // edit the flag in the editor: turn it on, save version 2, deploy 10 % a (scaled) minute
  await page.goto(server.url + `/console/#/flagedit?app=${app}&profile=${prof}`);
  await page.waitForSelector('#flag-h:has-text("checkout_v2")');
  await page.getByLabel('Enabled').first().check();
  await page.waitForSelector('#flag-check .ok');
  await page.click('#flag-save');
  await page.waitForSelector('#flag-saved:has-text("version 2")');
  await page.selectOption('#d-version', '2');
  await page.selectOption('#d-strategy', 'Lever.Linear10PercentEvery1Minute');
  await page.click('#d-start');
  await page.waitForSelector('#dep-state');
  await page.waitForSelector('#dep-state:text-is("COMPLETE")', { timeout: 30000 });
  assert.equal(await page.textContent('#dep-pct'), '100.0%');
  const steps = await page.locator('#dep-events td:text-is("PERCENTAGE_UPDATED")').count();
  assert.ok(steps >= 10, 'one event per step: ' + steps);
  const d = await page.getAttribute('#dep-chart path.line', 'd');
  assert.ok((d.match(/V/g) || []).length >= 10, 'the chart steps up: ' + d);
  await shot(page, 'deployment-complete');
  assert.deepEqual(await axeViolations(page), [], 'deployment page');

  // another deployment, slow (10 % every 10 scaled minutes: 1 s a step); fire the alarm from the page
  await page.goto(server.url + `/console/#/profile?app=${app}&profile=${prof}`);
  await page.waitForSelector('#d-start');
  await page.selectOption('#d-version', '1');
  await page.selectOption('#d-strategy', 'Lever.Linear10PercentEvery10Minutes');
  await page.click('#d-start');
  await page.waitForSelector('#dep-state:text-is("DEPLOYING")');
  await page.waitForSelector('#dep-stop');
  await page.waitForFunction(() => parseFloat(document.getElementById('dep-pct')?.textContent) >= 10, null, { timeout: 30000 });
  await page.waitForSelector('#alarm-table tr[data-alarm="checkout-errors"]');
  await page.click('button[aria-label="Set checkout-errors to ALARM"]');
  await page.waitForSelector('#dep-state:text-is("ROLLED_BACK")', { timeout: 30000 });
  await page.waitForSelector('#dep-events td:text-is("CLOUDWATCH_ALARM")');
  assert.equal(await page.textContent('#dep-pct'), '0.0%');
  await shot(page, 'deployment-rolled-back');
  const lines = server.auditLines();
  assert.ok(lines.some((l) => l.operation === 'Lever.SetAlarmState' && l.key_id === ROOT_KEY && l.names.includes('checkout-errors')));
  assert.ok(lines.some((l) => l.operation === 'StartDeployment' && l.key_id === ROOT_KEY && l.outcome === 'ok'));
  // and the audit view finds them
  await page.goto(server.url + '/console/#/audit');
  await page.waitForSelector('#audit-list table');
  await page.fill('#a-op', 'StartDeployment');
  await page.click('#a-apply');
  await page.waitForSelector('#audit-list caption:has-text("3 event(s)")');
  await page.fill('#a-op', 'Lever.SetAlarmState');
  await page.click('#a-apply');
  await page.waitForSelector('#audit-list td:has-text("checkout-errors")');
  await page.context().close();
});

test('stop a running deployment from its page', async () => {
  await cli(server, ['alarm', 'set', 'checkout-errors', 'OK']);
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  await page.click('#nav a[data-section="deployments"]');
  await page.waitForSelector('main a:has-text("Environment prod")');
  await page.click('main a:has-text("Environment prod")');
  await page.waitForSelector('#env-state');
  await page.goto(server.url + `/console/#/profile?app=${ids.app}&profile=${ids.prof}`);
  await page.waitForSelector('#d-start');
  await page.selectOption('#d-strategy', 'Lever.Linear10PercentEvery10Minutes');
  await page.click('#d-start');
  await page.waitForSelector('#dep-stop');
  await page.click('#dep-stop');
  await page.waitForSelector('#dep-state:text-is("ROLLED_BACK")', { timeout: 30000 });
  await page.waitForSelector('#dep-events td:has-text("ROLLBACK")');
  await page.context().close();
});
