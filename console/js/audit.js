// audit.js - the audit log (Lever.DescribeAuditEvents, root key only) with
// filters. New lines appear by themselves: the view re-reads the log when
// a parameter changes (watch) and every few seconds while it is shown.
import { lever } from './api.js';
import { clear, h } from './dom.js';
import { watch } from './live.js';

let timer = null;
export function stopAudit() { if (timer) { clearInterval(timer); timer = null; } }

export async function renderAudit(main, query) {
  stopAudit();
  const f = {
    KeyId: h('input', { id: 'a-key', size: 22, value: query.get('key') || '' }),
    Operation: h('input', { id: 'a-op', size: 22, value: query.get('op') || '', list: 'a-ops' }),
    Outcome: h('select', { id: 'a-outcome' }, ['', 'ok', 'error', 'denied', 'throttled'].map((o) =>
      h('option', { value: o, selected: o === (query.get('outcome') || '') }, o || 'any'))),
    NamePrefix: h('input', { id: 'a-prefix', size: 22, value: query.get('prefix') || '' }),
    Since: h('input', { id: 'a-since', size: 22, placeholder: '2026-12-01T22', value: query.get('since') || '' }),
  };
  const ops = h('datalist', { id: 'a-ops' }, ['PutParameter', 'DeleteParameter', 'LabelParameterVersion', 'UnlabelParameterVersion',
    'GetParameter', 'Console.SignIn', 'Console.SignOut', 'Lever.CreateAccessKey', 'Lever.PutKeyPolicy', 'CreateApplication', 'CreateHostedConfigurationVersion',
    'StartDeployment', 'StopDeployment', 'Lever.CheckConfiguration', 'Lever.SetAlarmState'].map((o) => h('option', { value: o })));
  const labels = { KeyId: 'Access key id', Operation: 'Operation', Outcome: 'Outcome', NamePrefix: 'Name starts with', Since: 'Since (UTC)' };
  const err = h('p', { class: 'error', role: 'alert' });
  const list = h('div', { id: 'audit-list' });
  const form = h('form', { class: 'toolbar', 'aria-label': 'Audit filters', onsubmit: (e) => { e.preventDefault(); load(); } },
    Object.entries(f).map(([k, el]) => h('div', { class: 'field' }, h('label', { for: el.id }, labels[k]), el)), ops,
    h('button', { type: 'submit', id: 'a-apply' }, 'Apply filters'));
  clear(main).append(h('h1', {}, 'Audit log'),
    h('p', { class: 'note' }, 'Every mutating or refused call, and console sign-ins, newest first. Values and secrets are never logged.'),
    form, err, list);

  let last = '';
  let rev = 0;
  async function load() {
    const body = { MaxResults: 200 };
    for (const [k, el] of Object.entries(f)) if (el.value) body[k] = el.value;
    try {
      const r = await lever('DescribeAuditEvents', body);
      rev = r.revision;
      err.textContent = '';
      const key = JSON.stringify(r.Events);
      if (key === last) return;
      last = key;
      clear(list).append(r.Events.length ? h('table', {},
        h('caption', { class: 'note' }, r.Events.length + ' event(s)'),
        h('thead', {}, h('tr', {}, ['Time', 'Operation', 'Names', 'Outcome', 'Key', 'Source'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, r.Events.map((e) => h('tr', {},
          h('td', { class: 'mono' }, e.time), h('td', {}, e.operation), h('td', { class: 'mono' }, (e.names || []).join(', ')),
          h('td', { class: 'outcome-' + e.outcome }, e.outcome + (e.error ? ' (' + e.error + ')' : '')),
          h('td', { class: 'mono' }, e.key_id), h('td', { class: 'mono' }, e.source)))))
        : h('p', { class: 'note' }, 'No event matches.'));
    } catch (e) {
      err.textContent = e.type === 'AccessDeniedException' ? 'Only the root key may read the audit log.' : e.message;
      stopAudit();
    }
  }
  await load();
  timer = setInterval(() => { if (document.visibilityState === 'visible') load(); }, 3000);
  if (timer) watch('/', rev, () => load());
}
