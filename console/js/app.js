// app.js - the console's entry: sign-in, navigation (hash routes), and
// which page module draws each section.
import { currentSession, loadSession, onExpired, signIn, signOut } from './api.js';
import { stopAudit, renderAudit } from './audit.js';
import { clear, h, status } from './dom.js';
import { renderKeys } from './keys.js';
import { stopWatch } from './live.js';
import { renderParam } from './param.js';
import { renderNew, renderTree } from './tree.js';

const main = () => document.getElementById('main');

const LATER = {
  appconfig: ['AppConfig', 'Applications, environments, configuration profiles and hosted versions with an editor.'],
  flags: ['Feature flags', 'A flag editor with variants, rules and a “try it” evaluation.'],
  deployments: ['Deployments', 'Start a deployment with a strategy, watch its progress, stop or roll back; alarms.'],
};

function renderSignIn(message) {
  stopWatch();
  stopAudit();
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const akid = h('input', { id: 'akid', name: 'akid', autocomplete: 'username', required: true, spellcheck: 'false' });
  const secret = h('input', { id: 'secret', name: 'secret', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error', id: 'signin-error', role: 'alert' }, message || '');
  const submit = h('button', { type: 'submit', id: 'signin-submit' }, 'Sign in');
  const form = h('form', { class: 'card signin', id: 'signin-form', 'aria-labelledby': 'signin-h', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    submit.disabled = true;
    try {
      await signIn(akid.value.trim(), secret.value);
      secret.value = '';
      if (!location.hash || location.hash === '#/signin') location.hash = '#/parameters';
      else route();
    } catch (x) {
      err.textContent = x.status === 429 ? 'Too many failed attempts; wait a minute and try again.'
        : x.status === 401 ? 'The access key id or secret is not valid.' : x.message;
      secret.focus();
    } finally { submit.disabled = false; }
  } },
  h('h1', { id: 'signin-h' }, 'Sign in to lever'),
  h('p', { class: 'note' }, 'Use an access key: the root key from the server’s credentials file, or a key issued with lever admin create-key.'),
  h('label', { for: 'akid' }, 'Access key id'), akid,
  h('label', { for: 'secret' }, 'Secret access key'), secret, err, submit);
  clear(main()).append(form);
  akid.focus();
}

function markNav(section) {
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
    if (LATER[a.dataset.section]) a.classList.add('later');
  }
}

async function route() {
  const s = currentSession();
  if (!s) { renderSignIn(); return; }
  stopWatch();
  stopAudit();
  document.getElementById('nav').hidden = false;
  document.getElementById('who').hidden = false;
  document.getElementById('who-key').textContent = s.AccessKeyId + (s.Root ? ' (root)' : '');
  document.getElementById('nav-keys').hidden = !s.Root;
  const hash = location.hash.replace(/^#\/?/, '') || 'parameters';
  const [page, qs] = hash.split('?');
  const query = new URLSearchParams(qs || '');
  if (page === 'signin') { location.hash = '#/parameters'; return; }
  const m = main();
  status('');
  document.getElementById('status').className = 'status';
  const section = page === 'parameter' || page === 'new' ? 'parameters' : page;
  markNav(section);
  if (page === 'parameters') await renderTree(m, query);
  else if (page === 'parameter') await renderParam(m, query);
  else if (page === 'new') renderNew(m, query);
  else if (page === 'audit') await renderAudit(m, query);
  else if (page === 'keys') await renderKeys(m);
  else if (LATER[page]) clear(m).append(h('h1', {}, LATER[page][0]), h('p', {}, LATER[page][1]),
    h('p', { class: 'note' }, 'Not available in this build of the console yet.'));
  else clear(m).append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/parameters' }, 'Go to parameters')));
  document.title = (section.charAt(0).toUpperCase() + section.slice(1)) + ' · lever console';
}

async function boot() {
  onExpired(() => renderSignIn('Your session has ended; sign in again.'));
  document.getElementById('signout').addEventListener('click', async () => {
    try { await signOut(); } catch { /* already gone */ }
    location.hash = '#/signin';
    renderSignIn('Signed out.');
  });
  window.addEventListener('hashchange', () => { route().catch((e) => status(e.message)); });
  await loadSession();
  await route();
}

boot();
