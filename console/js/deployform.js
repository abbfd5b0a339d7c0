// deployform.js - start a deployment of a profile's version to an
// environment with a strategy (StartDeployment as the signed-in key).
import { ac, enc } from './api.js';
import { h } from './dom.js';
import { errorBox } from './tree.js';

export async function deployForm(app, profile, versions, chosen) {
  const [envs, strats] = await Promise.all([ac('GET', '/applications/' + enc(app) + '/environments?max_results=50'),
    ac('GET', '/deploymentstrategies?max_results=50')]);
  const env = h('select', { id: 'd-env' }, envs.data.Items.map((e) => h('option', { value: e.Id }, e.Name)));
  const strat = h('select', { id: 'd-strategy' }, strats.data.Items.map((s) => h('option', { value: s.Id },
    s.Name + ' (' + s.GrowthType + ' ' + s.GrowthFactor + '%, ' + s.DeploymentDurationInMinutes + ' min, bake ' + s.FinalBakeTimeInMinutes + ' min)')));
  const ver = h('select', { id: 'd-version' }, versions.map((v) => h('option', { value: String(v), selected: String(v) === String(chosen) }, 'version ' + v)));
  const desc = h('input', { id: 'd-desc', size: 30 });
  const err = errorBox('d-error');
  const submit = h('button', { type: 'submit', id: 'd-start', disabled: !envs.data.Items.length || !versions.length }, 'Start deployment');
  const form = h('form', { class: 'card', 'aria-labelledby': 'd-h', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const body = { DeploymentStrategyId: strat.value, ConfigurationProfileId: profile, ConfigurationVersion: ver.value };
    if (desc.value) body.Description = desc.value;
    try {
      const r = await ac('POST', '/applications/' + enc(app) + '/environments/' + enc(env.value) + '/deployments', body);
      location.hash = '#/deployment?app=' + enc(app) + '&env=' + enc(env.value) + '&n=' + r.data.DeploymentNumber;
    } catch (x) { err.textContent = x.type + ': ' + x.message; }
  } }, h('h2', { id: 'd-h' }, 'Deploy'),
  envs.data.Items.length ? null : h('p', { class: 'note' }, 'This application has no environment yet: create one first.'),
  h('div', { class: 'row' },
    h('div', { class: 'field' }, h('label', { for: 'd-env' }, 'Environment'), env),
    h('div', { class: 'field' }, h('label', { for: 'd-version' }, 'Version'), ver),
    h('div', { class: 'field' }, h('label', { for: 'd-strategy' }, 'Strategy'), strat),
    h('div', { class: 'field' }, h('label', { for: 'd-desc' }, 'Description'), desc), submit), err);
  form.select = (v) => { ver.value = String(v); };
  return form;
}
