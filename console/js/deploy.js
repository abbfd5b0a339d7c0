// deploy.js - deployments: every environment's recent deployments, one
// environment's history with its alarms, and one deployment live: state,
// a chart of its percentage and served share (chart.js), the event log,
// stop / revert.
// Updates come from Lever.WatchConfigurations; only the served share, which
// has no change event, is re-read (every 3 s while a deployment runs).
import { ac, enc } from './api.js';
import { clear, fmtTime, h } from './dom.js';
import { alarmsPanel } from './alarms.js';
import { listAll } from './appconfig.js';
import { percentChart } from './chart.js';
import { table } from './forms.js';
import { watchConfigs } from './live.js';
import { errorBox } from './tree.js';

let ticker = null;
export function stopDeploy() { if (ticker) { clearInterval(ticker); ticker = null; } }

const RUNNING = new Set(['DEPLOYING', 'BAKING', 'VALIDATING', 'ROLLING_BACK']);
const envPath = (app, env) => '/applications/' + enc(app) + '/environments/' + enc(env);
const depLink = (app, env, n) => '#/deployment?app=' + enc(app) + '&env=' + enc(env) + '&n=' + n;

function depRows(app, env, items, envName) {
  return items.map((d) => h('tr', {}, envName !== undefined ? h('td', {}, envName) : null,
    h('td', {}, h('a', { href: depLink(app, env, d.DeploymentNumber) }, '#' + d.DeploymentNumber)),
    h('td', {}, d.ConfigurationName + ' v' + d.ConfigurationVersion), h('td', {}, h('span', { class: 'pill' }, d.State)),
    h('td', {}, d.PercentageComplete.toFixed(1) + '%'), h('td', {}, fmtTime(d.StartedAt))));
}

export async function renderDeployments(main) {
  const parts = [h('h1', {}, 'Deployments')];
  for (const a of await listAll('/applications')) {
    const rows = [];
    for (const e of await listAll('/applications/' + enc(a.Id) + '/environments')) {
      const r = await ac('GET', envPath(a.Id, e.Id) + '/deployments?max_results=5');
      rows.push(h('tr', {}, h('td', { colspan: 6 }, h('a', { href: '#/env?app=' + enc(a.Id) + '&env=' + enc(e.Id) }, 'Environment ' + e.Name), ' · ' + e.State)),
        ...depRows(a.Id, e.Id, r.data.Items || [], ''));
    }
    parts.push(h('h2', {}, a.Name), rows.length ? table(null, ['Environment', 'Deployment', 'Configuration', 'State', 'Percentage', 'Started'], rows)
      : h('p', { class: 'note' }, 'No environment.'));
  }
  if (parts.length === 1) parts.push(h('p', { class: 'note' }, 'No application yet.'));
  parts.push(h('p', { class: 'note' }, 'Start a deployment from a configuration profile or the flag editor.'));
  clear(main).append(...parts);
}

export async function renderEnv(main, query) {
  const app = query.get('app'), env = query.get('env');
  const list = h('div', { id: 'env-deployments' });
  const alarms = alarmsPanel(app, env);
  const load = async () => {
    const e = (await ac('GET', envPath(app, env))).data;
    const r = await ac('GET', envPath(app, env) + '/deployments?max_results=50');
    clear(list).append(h('p', {}, 'State: ', h('span', { class: 'pill', id: 'env-state' }, e.State)),
      (r.data.Items || []).length ? table(null, ['Deployment', 'Configuration', 'State', 'Percentage', 'Started'], depRows(app, env, r.data.Items)) : h('p', { class: 'note' }, 'No deployment yet.'));
    await alarms.load();
    return r.revision;
  };
  clear(main).append(h('nav', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/app?app=' + enc(app) }, '← Application')),
    h('h1', {}, 'Environment'), list, alarms.el);
  watchConfigs(app, env, await load(), () => { load().catch(() => {}); });
}

// [ms, pct] points of a deployment from its event log (oldest first).
function points(d) {
  const pts = [];
  for (const e of [...d.EventLog].reverse()) {
    const t = Date.parse(e.OccurredAt);
    if (e.EventType === 'DEPLOYMENT_STARTED') pts.push([t, 0]);
    else if (e.EventType === 'PERCENTAGE_UPDATED') { const m = /([\d.]+)%/.exec(e.Description); if (m) pts.push([t, Number(m[1])]); }
    else if (/ROLLBACK|REVERT/.test(e.EventType)) pts.push([t, 0]);
  }
  return pts;
}

// [ms, pct] points of the served share (ServedShare.Points: one per time
// bin with reports), with .until the end of the last bin.
function served(d) {
  const pts = (d.ServedShare?.Points || []).map((p) => [Date.parse(p.Time), p.Percentage]);
  const last = d.ServedShare?.Points?.at(-1);
  pts.until = last ? Date.parse(last.Time) + last.Seconds * 1000 : 0;
  return pts;
}

export async function renderDeployment(main, query) {
  const app = query.get('app'), env = query.get('env'), n = query.get('n');
  const path = envPath(app, env) + '/deployments/' + enc(n);
  const view = h('div', { id: 'dep-view' });
  const err = errorBox('dep-error');
  const alarms = alarmsPanel(app, env, () => load());
  let d = null;
  const stop = async (revert) => {
    err.textContent = '';
    try { d = (await ac('DELETE', path, revert ? { AllowRevert: true } : {})).data; draw(); } catch (x) { err.textContent = x.type + ': ' + x.message; }
  };
  function chart() {
    const running = RUNNING.has(d.State);
    const now = Date.now(), t0 = Date.parse(d.StartedAt);
    const pts = points(d);
    if (running) pts.push([now, d.PercentageComplete]);
    const sp = served(d);
    const end = running ? now : Math.max(t0 + 1000, ...pts.map((p) => p[0]), d.CompletedAt ? Date.parse(d.CompletedAt) : 0, sp.until);
    const series = [{ name: 'Percentage', cls: 'pct', points: pts, until: end }];
    if (sp.length) series.push({ name: 'Served share', cls: 'served', points: sp, until: sp.until });
    return percentChart(series, t0, end, 'Percentage of clients served the new version over time: now ' + d.PercentageComplete.toFixed(1) + '%' +
      (sp.length ? '; served share ' + d.ServedPercentage.toFixed(1) + '%' : ''));
  }
  const caption = () => h('figcaption', { class: 'note', id: 'dep-served' }, h('span', { class: 'key pct' }, 'Percentage'), ' the strategy has reached; ',
    h('span', { class: 'key served' }, 'served share'), d.ServedShare
      ? ': the entities actually given the new version, ' + d.ServedPercentage.toFixed(1) + '% of ' + Math.round(d.ServedShare.Entities) + ' lately (reported by lever-agent and liblever, counted by leverd)'
      : ': nothing reported yet');
  // The served share has no change-log event: while a deployment runs (and
  // shortly after it ends, as the last reports come in) it is re-read every
  // 3 s, redrawing only the chart unless the deployment itself changed.
  async function refresh() {
    const r = await ac('GET', path);
    const moved = r.data.State !== d.State || r.data.EventLog.length !== d.EventLog.length;
    d = r.data;
    if (moved) { draw(); return; }
    const fig = document.getElementById('dep-chart');
    if (fig) { fig.replaceChild(chart(), fig.firstChild); fig.replaceChild(caption(), fig.lastChild); }
  }
  function draw() {
    const running = RUNNING.has(d.State);
    const fig = h('figure', { id: 'dep-chart' }, chart(), caption());
    clear(view).append(
      h('p', {}, 'Configuration ', h('strong', {}, d.ConfigurationName + ' version ' + d.ConfigurationVersion), ' with ', h('span', { class: 'mono' }, d.DeploymentStrategyId),
        ' (' + d.GrowthType + ' ' + d.GrowthFactor + '%, ' + d.DeploymentDurationInMinutes + ' min, bake ' + d.FinalBakeTimeInMinutes + ' min)'),
      h('div', { class: 'row' }, h('span', { class: 'pill big', id: 'dep-state' }, d.State),
        h('span', { class: 'big', id: 'dep-pct' }, d.PercentageComplete.toFixed(1) + '%'),
        running ? h('button', { type: 'button', class: 'danger', id: 'dep-stop', onclick: () => stop(false) }, 'Stop deployment') : null,
        d.State === 'COMPLETE' ? h('button', { type: 'button', class: 'danger', id: 'dep-revert', onclick: () => stop(true) }, 'Revert') : null),
      fig, h('h2', {}, 'Event log'),
      table(null, ['Time', 'Event', 'By', 'Description'], d.EventLog.map((e) => h('tr', {}, h('td', {}, fmtTime(e.OccurredAt)),
        h('td', { class: 'mono' }, e.EventType), h('td', {}, e.TriggeredBy), h('td', {}, e.Description))), 'dep-events'));
    stopDeploy();
    // Only the time axis moves between steps: redraw the chart, not the page.
    const ended = d.CompletedAt ? Date.parse(d.CompletedAt) : Date.parse(d.EventLog[0]?.OccurredAt || d.StartedAt);
    if (running || Date.now() - ended < 20000) {
      let n = 0;
      ticker = setInterval(() => {
        if (++n % 3 === 0) refresh().catch(() => {});
        else if (running) fig.replaceChild(chart(), fig.firstChild);
        if (!running && Date.now() - ended > 20000) stopDeploy();
      }, 1000);
    }
  }
  async function load() {
    const r = await ac('GET', path);
    d = r.data;
    draw();
    alarms.load().catch(() => {});
    return r.revision;
  }
  clear(main).append(h('nav', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/env?app=' + enc(app) + '&env=' + enc(env) }, '← Environment')),
    h('h1', {}, 'Deployment #' + n), view, err, alarms.el);
  watchConfigs(app, env, await load(), () => { load().catch(() => {}); });
}
