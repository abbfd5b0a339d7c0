// alarms.js - an environment's monitors: the alarms they name, their
// state (Lever.DescribeAlarms) and setting one (Lever.SetAlarmState), as
// the signed-in key. An alarm in ALARM rolls a running deployment back.
import { ac, enc, lever } from './api.js';
import { clear, fmtTime, h } from './dom.js';
import { table } from './forms.js';
import { errorBox } from './tree.js';

export function alarmName(arn) { return String(arn).split(':alarm:').pop(); }

// A section listing the alarms of app/env's monitors; onChange after a
// state is set. Answers { el, load }.
export function alarmsPanel(app, env, onChange = () => {}) {
  const body = h('div', { id: 'alarms' });
  const err = errorBox('alarm-error');
  const set = async (name, state) => {
    err.textContent = '';
    try {
      await lever('SetAlarmState', { AlarmName: name, StateValue: state, StateReason: 'Set in the console' });
      await load();
      onChange();
    } catch (x) { err.textContent = x.type + ': ' + x.message; }
  };
  async function load() {
    const e = (await ac('GET', '/applications/' + enc(app) + '/environments/' + enc(env))).data;
    const names = (e.Monitors || []).map((m) => alarmName(m.AlarmArn));
    if (!names.length) { clear(body).append(h('p', { class: 'note' }, 'No monitor: nothing rolls a deployment back automatically.')); return; }
    let alarms = [];
    try { alarms = (await lever('DescribeAlarms', { AlarmNames: names })).Alarms || []; } catch (x) { err.textContent = x.type + ': ' + x.message; }
    const by = new Map(alarms.map((a) => [a.AlarmName, a]));
    clear(body).append(table(null, ['Alarm', 'State', 'Reason', 'Since', 'Set'], names.map((n) => {
      const a = by.get(n);
      const st = a ? a.StateValue : 'INSUFFICIENT_DATA';
      return h('tr', { 'data-alarm': n }, h('td', { class: 'mono' }, n), h('td', {}, h('span', { class: 'pill state-' + st }, st)),
        h('td', {}, a ? a.StateReason : 'no such alarm (create it with lever alarm put)'), h('td', {}, a ? fmtTime(a.StateUpdatedTimestamp) : ''),
        h('td', {}, a ? [h('button', { type: 'button', class: 'danger', 'aria-label': 'Set ' + n + ' to ALARM', onclick: () => set(n, 'ALARM') }, 'ALARM'), ' ',
          h('button', { type: 'button', class: 'secondary', 'aria-label': 'Set ' + n + ' to OK', onclick: () => set(n, 'OK') }, 'OK')] : ''));
    }), 'alarm-table'));
  }
  return { el: h('section', { 'aria-labelledby': 'alarms-h' }, h('h2', { id: 'alarms-h' }, 'Alarms'), body, err), load };
}
