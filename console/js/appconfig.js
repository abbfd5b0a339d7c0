// appconfig.js - AppConfig applications and one application's
// environments and configuration profiles, with create forms. Every call
// is the AppConfig REST API as the signed-in key (/console/ac/...).
import { ac, currentSession, enc } from './api.js';
import { clear, h } from './dom.js';
import { createForm, table } from './forms.js';

const TYPES = ['AWS.Freeform', 'AWS.AppConfig.FeatureFlags'];

export function alarmArn(name) {
  const s = currentSession();
  return 'arn:aws:cloudwatch:' + s.Region + ':' + s.Account + ':alarm:' + name;
}

export async function listAll(path) {
  const items = [];
  let token = '';
  do {
    const r = await ac('GET', path + (path.includes('?') ? '&' : '?') + 'max_results=50' + (token ? '&next_token=' + enc(token) : ''));
    items.push(...(r.data.Items || []));
    token = r.data.NextToken;
  } while (token);
  return items;
}

export async function renderApps(main) {
  const list = h('div', { id: 'apps-list' }, h('p', { class: 'note' }, 'Loading…'));
  const form = createForm('new-app', 'New application', [
    { name: 'Name', label: 'Name', required: true }, { name: 'Description', label: 'Description (optional)', size: 40 }],
  async (v) => {
    const body = { Name: v.Name };
    if (v.Description) body.Description = v.Description;
    const r = await ac('POST', '/applications', body);
    location.hash = '#/app?app=' + enc(r.data.Id);
  });
  clear(main).append(h('h1', {}, 'AppConfig applications'), list, form);
  const apps = await listAll('/applications');
  clear(list).append(apps.length ? table(apps.length + ' application(s)', ['Name', 'Id', 'Description'], apps.map((a) => h('tr', {},
    h('td', {}, h('a', { href: '#/app?app=' + enc(a.Id) }, a.Name)), h('td', { class: 'mono' }, a.Id), h('td', {}, a.Description || ''))), 'apps')
    : h('p', { class: 'note' }, 'No application yet.'));
}

export async function renderApp(main, query) {
  const app = query.get('app');
  const a = (await ac('GET', '/applications/' + enc(app))).data;
  const base = '/applications/' + enc(app);
  const [envs, profs] = await Promise.all([listAll(base + '/environments'), listAll(base + '/configurationprofiles')]);
  const type = h('select', {}, TYPES.map((t) => h('option', { value: t }, t)));
  const schema = h('textarea', { rows: 3, placeholder: '{"type": "object"}' });
  const newProf = createForm('new-prof', 'New configuration profile (hosted)', [
    { name: 'Name', label: 'Name', required: true }, { name: 'Type', label: 'Type', el: type },
    { name: 'Schema', label: 'JSON schema validator (optional)', el: schema }],
  async (v) => {
    const body = { Name: v.Name, LocationUri: 'hosted', Type: v.Type };
    if (v.Schema.trim()) body.Validators = [{ Type: 'JSON_SCHEMA', Content: v.Schema }];
    const r = await ac('POST', base + '/configurationprofiles', body);
    location.hash = '#/profile?app=' + enc(app) + '&profile=' + enc(r.data.Id);
  });
  const alarm = h('input', { size: 30, placeholder: 'checkout-errors' });
  const newEnv = createForm('new-env', 'New environment', [
    { name: 'Name', label: 'Name', required: true },
    { name: 'Alarm', label: 'Monitor alarm name (optional)', el: alarm, hint: 'An alarm in ALARM rolls a deployment back.' }],
  async (v) => {
    const body = { Name: v.Name };
    if (v.Alarm) body.Monitors = [{ AlarmArn: alarmArn(v.Alarm) }];
    await ac('POST', base + '/environments', body);
    await renderApp(main, query);
  });
  clear(main).append(
    h('nav', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/appconfig' }, '← Applications')),
    h('h1', {}, a.Name), h('p', { class: 'note' }, 'Application ', h('span', { class: 'mono' }, a.Id), a.Description ? ' · ' + a.Description : ''),
    h('h2', {}, 'Configuration profiles'),
    profs.length ? table(null, ['Name', 'Type', 'Location', 'Id'], profs.map((p) => h('tr', {},
      h('td', {}, h('a', { href: '#/profile?app=' + enc(app) + '&profile=' + enc(p.Id) }, p.Name)), h('td', {}, p.Type || 'AWS.Freeform'),
      h('td', { class: 'mono' }, p.LocationUri), h('td', { class: 'mono' }, p.Id))), 'profiles') : h('p', { class: 'note' }, 'No profile yet.'),
    h('h2', {}, 'Environments'),
    envs.length ? table(null, ['Name', 'State', 'Monitors', 'Id'], envs.map((e) => h('tr', {},
      h('td', {}, h('a', { href: '#/env?app=' + enc(app) + '&env=' + enc(e.Id) }, e.Name)), h('td', {}, e.State),
      h('td', { class: 'mono' }, (e.Monitors || []).map((m) => m.AlarmArn.split(':').pop()).join(', ')), h('td', { class: 'mono' }, e.Id))), 'envs')
      : h('p', { class: 'note' }, 'No environment yet.'),
    newProf, newEnv);
}
