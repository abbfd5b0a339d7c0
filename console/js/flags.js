// flags.js - feature flags: the AWS.AppConfig.FeatureFlags profiles of
// every application, and the flag editor of one: pick or add a flag, edit
// it (flagform.js); every edit is checked by leverd (the one validator and
// rule parser, Lever.CheckConfiguration) and the problems appear at their
// fields; "try it" evaluates the draft for a context with the same
// evaluator; save as a new version, then deploy.
import { ac, enc } from './api.js';
import { clear, h } from './dom.js';
import { listAll } from './appconfig.js';
import { checkConfiguration, debounce, violationsBox } from './check.js';
import { deployForm } from './deployform.js';
import { Fields } from './flagfields.js';
import { flagForm } from './flagform.js';
import { FLAGS, hostedPath, saveVersion } from './profile.js';
import { table } from './forms.js';
import { tryIt } from './tryit.js';
import { errorBox } from './tree.js';

export async function renderFlagProfiles(main) {
  const rows = [];
  for (const a of await listAll('/applications'))
    for (const p of await listAll('/applications/' + enc(a.Id) + '/configurationprofiles?type=' + enc(FLAGS)))
      rows.push(h('tr', {}, h('td', {}, a.Name), h('td', {}, h('a', { href: '#/flagedit?app=' + enc(a.Id) + '&profile=' + enc(p.Id) }, p.Name))));
  clear(main).append(h('h1', {}, 'Feature flags'),
    rows.length ? table('Feature flag profiles', ['Application', 'Profile'], rows, 'flag-profiles')
      : h('p', { class: 'note' }, 'No feature flag profile yet: create one of type AWS.AppConfig.FeatureFlags on an ',
        h('a', { href: '#/appconfig' }, 'application'), '.'));
}

export async function renderFlagEditor(main, query) {
  const app = query.get('app'), profile = query.get('profile');
  const p = (await ac('GET', '/applications/' + enc(app) + '/configurationprofiles/' + enc(profile))).data;
  const versions = (await listAll(hostedPath(app, profile))).map((v) => v.VersionNumber).sort((x, y) => y - x);
  const latest = versions[0] || 0;
  const doc = latest ? JSON.parse((await ac('GET', hostedPath(app, profile, latest))).text) : { version: '1', flags: {}, values: {} };
  doc.flags ||= {}; doc.values ||= {};
  let current = query.get('flag') || Object.keys(doc.flags)[0] || '';
  let fields = new Fields();
  const box = violationsBox('flag-check');
  const panel = h('div', { id: 'flag-panel' });
  const list = h('ul', { class: 'flag-list', id: 'flag-list' });
  const err = errorBox('flag-error');
  const trial = tryIt(app, profile, () => JSON.stringify(doc));
  let last = null;
  const check = async () => {
    try { last = await checkConfiguration(app, profile, JSON.stringify(doc)); } catch (e) { last = { Valid: false, error: e.type + ': ' + e.message, Violations: [] }; }
    const rest = fields.show(last.Violations);
    box.show(last.Valid || last.error ? last : { ...last, Violations: rest.length ? rest : last.Violations });
    trial.refresh();
    return last;
  };
  const changed = debounce(check, 250);
  const draw = () => {
    clear(list).append(...Object.keys(doc.flags).map((k) => h('li', {}, h('button', { type: 'button', class: k === current ? '' : 'secondary',
      'aria-pressed': String(k === current), onclick: () => { current = k; draw(); } }, k))));
    fields = new Fields();
    clear(panel).append(current ? flagForm(doc, current, fields, changed, () => { draw(); check(); }) : h('p', { class: 'note' }, 'No flag yet: add one.'));
    check();
  };
  const newKey = h('input', { id: 'flag-new', size: 20, placeholder: 'new_flag_key', autocomplete: 'off' });
  const add = h('form', { class: 'row', 'aria-label': 'Add a flag', onsubmit: (e) => {
    e.preventDefault();
    if (!newKey.value) return;
    current = newKey.value;
    doc.flags[current] ||= { name: current };
    doc.values[current] ||= { enabled: false };
    newKey.value = '';
    draw();
  } }, h('label', { for: 'flag-new' }, 'Flag key'), newKey, h('button', { type: 'submit', id: 'flag-add', class: 'secondary' }, 'Add flag'));
  const desc = h('input', { id: 'flag-desc', size: 30 });
  const save = h('form', { class: 'card', 'aria-labelledby': 'save-h', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const r = await check();
    if (!r.Valid) { err.textContent = 'Not saved: fix the problems shown first.'; return; }
    try {
      const n = await saveVersion(app, profile, JSON.stringify(doc, null, 2), 'application/json', desc.value, latest);
      location.hash = '#/flagedit?app=' + enc(app) + '&profile=' + enc(profile) + '&flag=' + enc(current) + '&saved=' + n;
    } catch (x) { err.textContent = x.type + ': ' + x.message; }
  } }, h('h2', { id: 'save-h' }, 'Save'), h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'flag-desc' }, 'Description (optional)'), desc),
    h('button', { type: 'submit', id: 'flag-save' }, 'Save as version ' + (latest + 1))), err);
  const saved = query.get('saved');
  clear(main).append(
    h('nav', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/profile?app=' + enc(app) + '&profile=' + enc(profile) }, '← Profile ' + p.Name)),
    h('h1', {}, 'Flags: ' + p.Name), h('p', { class: 'note' }, latest ? 'Editing from version ' + latest + '.' : 'No version yet.',
      saved ? h('strong', { id: 'flag-saved' }, ' Saved version ' + saved + '.') : null),
    h('div', { class: 'flag-layout' }, h('nav', { 'aria-label': 'Flags' }, list, add), h('div', {}, panel, box)),
    trial.el, save, await deployForm(app, profile, versions, latest));
  draw();
}
