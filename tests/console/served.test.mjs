// served.test.mjs - the served share of a gradual deployment, end to end:
// a real leverd (--time-scale 600: a strategy minute is 100 ms), two real
// lever-agents serving 300 entities each (Entity-Id), and 100 clients
// bucketed by leverd itself (GetConfiguration client_id). The agents
// report what they served on their watch calls; GetDeployment's
// ServedShare must follow PercentageComplete step by step, reach 100 %
// after completion, and the deployment page must draw it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BUILD, ROOT_KEY, ROOT_SECRET, axeViolations, launch, newPage, shot, signIn, startLeverd, until } from './harness.mjs';

let server, chrome;
const agents = [];
const problems = [];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

async function startAgent(upstream) {
  const port = await freePort();
  const log = [];
  const proc = spawn(join(BUILD, 'lever-agent'), ['--upstream', upstream, '--appconfig-listen', '127.0.0.1:' + port], {
    env: { PATH: '/usr/bin:/bin', AWS_ACCESS_KEY_ID: ROOT_KEY, AWS_SECRET_ACCESS_KEY: ROOT_SECRET, AWS_REGION: 'us-east-1',
      LEVER_AGENT_SERVED_REPORT: '1s', LEVER_AGENT_LOG_LEVEL: 'warn', HOME: '/nonexistent',
      // a sanitizer build's settings reach the agents too
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(ASAN|UBSAN|LSAN)_OPTIONS$/.test(k))) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.on('data', (d) => log.push(String(d)));
  proc.stderr.on('data', (d) => log.push(String(d)));
  const url = 'http://127.0.0.1:' + port;
  await until(async () => { try { await fetch(url + '/'); return true; } catch { return proc.exitCode !== null && Promise.reject(new Error(log.join(''))); } }, 'lever-agent');
  const a = { url, log, async stop() { if (proc.exitCode === null) { proc.kill('SIGTERM'); await new Promise((r) => proc.once('exit', r)); } } };
  agents.push(a);
  return a;
}

before(async () => {
  server = await startLeverd(['--time-scale', '600']);
  chrome = await launch();
});

after(async () => {
  for (const a of agents) await a.stop();
  await chrome?.close();
  await server?.stop();
  assert.deepEqual(problems, [], 'no script errors or CSP violations in any page');
});

// An AppConfig call from the signed-in page (the console's own proxy).
const acCall = (page, method, path, body, headers = {}) => page.evaluate(async ([m, p, b, hs]) => {
  const s = await (await fetch('/console/session')).json();
  const r = await fetch('/console/ac' + p, { method: m, body: b === undefined ? undefined : typeof b === 'string' ? b : JSON.stringify(b),
    headers: { 'X-Lever-Csrf': s.CsrfToken, 'Content-Type': 'application/json', ...hs } });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}, [method, path, body, headers]);

test('the served share reported by agents and counted by leverd follows the percentage, and the chart draws it', async () => {
  const page = await newPage(chrome.browser, problems);
  await signIn(page, server.url, ROOT_KEY, ROOT_SECRET);
  const app = (await acCall(page, 'POST', '/applications', { Name: 'shop' })).body.Id;
  const env = (await acCall(page, 'POST', `/applications/${app}/environments`, { Name: 'prod' })).body.Id;
  const prof = (await acCall(page, 'POST', `/applications/${app}/configurationprofiles`, { Name: 'settings', LocationUri: 'hosted' })).body.Id;
  for (const text of ['colour=blue', 'colour=green'])
    assert.equal((await acCall(page, 'POST', `/applications/${app}/configurationprofiles/${prof}/hostedconfigurationversions`, text,
      { 'Content-Type': 'text/plain' })).status, 201);
  const deps = `/applications/${app}/environments/${env}/deployments`;
  assert.equal((await acCall(page, 'POST', deps, { DeploymentStrategyId: 'Lever.AllAtOnce', ConfigurationProfileId: prof, ConfigurationVersion: '1' })).status, 201);

  const [a1, a2] = [await startAgent(server.url), await startAgent(server.url)];
  const cfg = `/applications/${app}/environments/${env}/configurations/${prof}`;
  let running = true, answers = 0, wrong = 0;
  // 300 entities per agent, four at a time, over and over
  const sweep = async (agent, prefix) => {
    while (running) {
      for (let i = 0; i < 300 && running; i += 4) {
        await Promise.all([0, 1, 2, 3].map(async (j) => {
          const r = await fetch(agent.url + cfg, { headers: { 'Entity-Id': prefix + (i + j) } });
          const body = await r.text();
          answers++;
          if (r.status !== 200 || !/^colour=(blue|green)$/.test(body)) wrong++;
        }));
      }
    }
  };
  // 100 clients that leverd buckets itself (GetConfiguration client_id)
  const direct = async () => {
    while (running) {
      for (let i = 0; i < 100 && running; i += 10)
        await Promise.all([...Array(10).keys()].map((j) => acCall(page, 'GET', cfg + '?client_id=direct-' + (i + j))));
    }
  };
  const traffic = [sweep(a1, 'a-'), sweep(a2, 'b-'), direct()];
  await until(() => answers > 600, 'the agents answering', 20000);

  // 10 % every 10 scaled minutes: a step a second, complete after 10 s
  const started = await acCall(page, 'POST', deps, { DeploymentStrategyId: 'Lever.Linear10PercentEvery10Minutes', ConfigurationProfileId: prof, ConfigurationVersion: '2' });
  assert.equal(started.status, 201);
  const n = started.body.DeploymentNumber;
  const get = async () => (await acCall(page, 'GET', `${deps}/${n}`)).body;
  const seen = [];
  let d = await until(async () => {
    const x = await get();
    if (x.ServedPercentage !== undefined) seen.push([x.PercentageComplete, x.ServedPercentage]);
    return x.State === 'COMPLETE' && x;
  }, 'the deployment to complete', 40000);
  // the agents keep counting for a few reports after the end: the share reaches 100 %
  d = await until(async () => { const x = await get(); return x.ServedPercentage >= 99 && x; }, 'a served share of 100 % after completion', 20000);
  running = false;
  await Promise.all(traffic);
  assert.equal(wrong, 0, 'every answer is one of the two versions');
  assert.ok(seen.length >= 10, 'ServedPercentage was there while it ran: ' + seen.length);

  // Each bin entirely inside a step is compared with that step's percentage.
  const steps = [...d.EventLog].reverse().filter((e) => e.EventType === 'PERCENTAGE_UPDATED' || e.EventType === 'DEPLOYMENT_STARTED')
    .map((e) => [Date.parse(e.OccurredAt), e.EventType === 'DEPLOYMENT_STARTED' ? 0 : Number(/([\d.]+)%/.exec(e.Description)[1])]);
  const pts = d.ServedShare.Points;
  assert.ok(pts.length >= 20, 'points: ' + pts.length);
  const cmp = [];
  for (const p of pts) {
    const t0 = Date.parse(p.Time), t1 = t0 + p.Seconds * 1000;
    const k = steps.findLastIndex((s) => s[0] <= t0 - 150);
    if (k < 0 || (k + 1 < steps.length && steps[k + 1][0] < t1) || p.Entities < 50) continue;
    cmp.push([steps[k][1], p.Percentage, Math.abs(steps[k][1] - p.Percentage)]);
  }
  const worst = Math.max(...cmp.map((c) => c[2]));
  assert.ok(cmp.length >= 8, 'bins inside a step: ' + JSON.stringify(cmp));
  assert.ok(worst <= 10, 'served share within 10 points of the percentage in every bin: ' + JSON.stringify(cmp));
  const entities = Math.max(...pts.map((p) => p.Entities));
  // A bin sums the reports that fall in it; on a slow (sanitizer) build one
  // agent's two reports can share a bin, so the upper bound allows twice.
  assert.ok(entities >= 400 && entities <= 1400, 'about 700 entities counted (2 x 300 through agents, 100 direct): ' + entities);

  // /metrics has it too
  const metrics = await (await fetch(server.url + '/metrics')).text();
  assert.match(metrics, new RegExp(`lever_deployment_served_percentage\\{application="${app}"[^}]*deployment="${n}"[^}]*\\} (99|100)\\.\\d\\d`));

  // the deployment page draws it next to the percentage
  await page.goto(server.url + `/console/#/deployment?app=${app}&env=${env}&n=${n}`);
  await page.waitForSelector('#dep-chart path.line.served');
  const line = await page.getAttribute('#dep-chart path.line.served', 'd');
  assert.ok((line.match(/V/g) || []).length >= 10, 'the served-share series has points: ' + line);
  assert.ok((await page.getAttribute('#dep-chart path.line.pct', 'd')).includes('V'));
  assert.match(await page.textContent('#dep-served'), /served share: the entities actually given the new version, (99|100)\.\d% of \d+/);
  await shot(page, 'deployment-served');
  assert.deepEqual(await axeViolations(page), [], 'deployment page with a served share');
  await page.context().close();
  console.log(`served share: ${cmp.length} bins compared, worst ${worst.toFixed(1)} points, ${Math.round(entities)} entities, ${answers} answers`);
});
