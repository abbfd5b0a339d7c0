// profile.js - one configuration profile: its hosted versions, an editor
// whose draft the server checks as you type (JSON syntax, flag rules and
// the profile's validators, before anything is stored or deployed), save
// as a new version, and deploy a version.
import { ac, enc } from './api.js';
import { clear, h } from './dom.js';
import { checkedEditor } from './check.js';
import { deployForm } from './deployform.js';
import { listAll } from './appconfig.js';
import { table } from './forms.js';
import { errorBox } from './tree.js';

export const FLAGS = 'AWS.AppConfig.FeatureFlags';

export function hostedPath(app, profile, n) {
  return '/applications/' + enc(app) + '/configurationprofiles/' + enc(profile) + '/hostedconfigurationversions' + (n ? '/' + n : '');
}

// Stores content as the profile's next hosted version; answers its number.
export async function saveVersion(app, profile, content, contentType, description, latest) {
  const headers = { 'Content-Type': contentType };
  if (description) headers.Description = description;
  if (latest) headers['Latest-Version-Number'] = String(latest);
  const r = await ac('POST', hostedPath(app, profile), content, headers);
  return Number(r.headers.get('Version-Number'));
}

export async function renderProfile(main, query) {
  const app = query.get('app');
  const profile = query.get('profile');
  const p = (await ac('GET', '/applications/' + enc(app) + '/configurationprofiles/' + enc(profile))).data;
  const versions = (await listAll(hostedPath(app, profile))).sort((x, y) => y.VersionNumber - x.VersionNumber);
  const latest = versions.length ? versions[0].VersionNumber : 0;
  const flags = p.Type === FLAGS;
  const initial = latest ? (await ac('GET', hostedPath(app, profile, latest))).text
    : flags ? JSON.stringify({ version: '1', flags: {}, values: {} }, null, 2) : '';
  const ctype = h('input', { id: 'ed-ctype', size: 24, value: flags ? 'application/json' : (versions[0]?.ContentType || 'application/json'), disabled: flags });
  const ed = checkedEditor({ app, profile, value: initial, contentType: () => ctype.value, label: 'Content of the next version' });
  ctype.addEventListener('change', () => ed.check());
  const desc = h('input', { id: 'ed-desc', size: 40 });
  const err = errorBox('ed-error');
  const deploy = await deployForm(app, profile, versions.map((v) => v.VersionNumber), latest);
  const editor = h('form', { class: 'card', 'aria-labelledby': 'ed-h', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const r = await ed.check();
    if (!r.Valid) { err.textContent = 'Not saved: fix the problems above first.'; return; }
    try {
      await saveVersion(app, profile, ed.textarea.value, ctype.value, desc.value, latest);
      await renderProfile(main, query);
      document.getElementById('versions')?.focus();
    } catch (x) { err.textContent = x.type + ': ' + x.message; }
  } }, h('h2', { id: 'ed-h' }, 'New version'),
  h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'ed-ctype' }, 'Content type'), ctype),
    h('div', { class: 'field' }, h('label', { for: 'ed-desc' }, 'Description (optional)'), desc)),
  ed.el, h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', id: 'ed-check', onclick: () => ed.check() }, 'Check'),
    h('button', { type: 'submit', id: 'ed-save' }, 'Save as version ' + (latest + 1))), err);
  const rows = versions.map((v) => h('tr', {},
    h('td', {}, String(v.VersionNumber)), h('td', { class: 'mono' }, v.ContentType), h('td', {}, v.Description || ''),
    h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': 'Edit from version ' + v.VersionNumber, onclick: async () => {
      ed.textarea.value = (await ac('GET', hostedPath(app, profile, v.VersionNumber))).text;
      ed.check();
      ed.textarea.focus();
    } }, 'Edit from'), ' ',
    h('button', { type: 'button', class: 'secondary', 'aria-label': 'Deploy version ' + v.VersionNumber, onclick: () => {
      deploy.select(v.VersionNumber);
      document.getElementById('d-env').focus();
    } }, 'Deploy'))));
  clear(main).append(
    h('nav', { 'aria-label': 'Breadcrumb' }, h('a', { href: '#/app?app=' + enc(app) }, '← Application')),
    h('h1', {}, p.Name), h('p', { class: 'note' }, p.Type || 'AWS.Freeform', ' · ', h('span', { class: 'mono' }, p.Id),
      (p.Validators || []).length ? ' · validators: ' + p.Validators.map((v) => v.Type).join(', ') : ''),
    flags ? h('p', {}, h('a', { class: 'button', id: 'open-flags', href: '#/flagedit?app=' + enc(app) + '&profile=' + enc(profile) }, 'Open the flag editor')) : '',
    h('h2', {}, 'Hosted versions'),
    versions.length ? h('div', { id: 'versions', tabindex: '-1' }, table(null, ['Version', 'Content type', 'Description', 'Actions'], rows))
      : h('p', { class: 'note', id: 'versions' }, 'No version yet.'),
    editor, deploy);
  ed.check();
}
