// app.js - the console's entry: sign-in, navigation (hash routes), and
// which page module draws each section.
import { currentSession, loadSession, onExpired, signIn, signOut } from './api.js';
import { renderApp, renderApps } from './appconfig.js';
import { stopAudit, renderAudit } from './audit.js';
import { renderDeployment, renderDeployments, renderEnv, stopDeploy } from './deploy.js';
import { clear, h, status } from './dom.js';
import { renderFlagEditor, renderFlagProfiles } from './flags.js';
import { renderKeys } from './keys.js';
import { stopWatch } from './live.js';
import { renderParam } from './param.js';
import { renderProfile } from './profile.js';
import { renderNew, renderTree } from './tree.js';

const main = () => document.getElementById('main');

// Which nav section each page belongs to, and what draws it.
const PAGES = {
  parameters: ['parameters', renderTree], parameter: ['parameters', renderParam], new: ['parameters', renderNew],
  audit: ['audit', renderAudit], keys: ['keys', renderKeys],
  appconfig: ['appconfig', renderApps], app: ['appconfig', renderApp], profile: ['appconfig', renderProfile],
  flags: ['flags', renderFlagProfiles], flagedit: ['flags', renderFlagEditor],
  deployments: ['deployments', renderDeployments], env: ['deployments', renderEnv], deployment: ['deployments', renderDeployment],
};

function renderSignIn(message) {
  stopWatch();
  stopAudit();
  stopDeploy();
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
  }
}

async function route() {
  const s = currentSession();
  if (!s) { renderSignIn(); return; }
  stopWatch();
  stopAudit();
  stopDeploy();
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
  const [section, render] = PAGES[page] || ['', null];
  markNav(section);
  if (render) {
    try { await render(m, query); } catch (e) {
      if (e.status === 401) return;
      clear(m).append(h('h1', {}, 'Cannot show this page'), h('p', { class: 'error', role: 'alert', id: 'page-error' }, (e.type ? e.type + ': ' : '') + e.message));
    }
  } else clear(m).append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/parameters' }, 'Go to parameters')));
  const title = section || 'not found';
  document.title = (title.charAt(0).toUpperCase() + title.slice(1)) + ' · lever console';
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
