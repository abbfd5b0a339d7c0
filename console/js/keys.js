// keys.js - access keys and their policies (root key only): create (the
// secret is shown once), enable / disable, delete, attach and remove
// named IAM-shaped policies with the server's errors shown inline.
import { lever } from './api.js';
import { clear, fmtTime, h } from './dom.js';
import { errorBox } from './tree.js';

const SAMPLE = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParametersByPath'], Resource: '*' }] }, null, 2);

export async function renderKeys(main) {
  const list = h('div', { id: 'keys-list' }, h('p', { class: 'note' }, 'Loading…'));
  const desc = h('input', { id: 'k-desc', size: 40 });
  const createErr = errorBox('k-create-error');
  const created = h('div', { id: 'k-created', 'aria-live': 'polite' });
  const create = h('form', { class: 'card', 'aria-labelledby': 'k-new-h', onsubmit: async (e) => {
    e.preventDefault();
    createErr.textContent = '';
    try {
      const r = await lever('CreateAccessKey', desc.value ? { Description: desc.value } : {});
      clear(created).append(h('div', { class: 'secret-once' },
        h('p', {}, 'Key ', h('strong', { class: 'mono', id: 'k-new-id' }, r.AccessKey.AccessKeyId),
          ' created. Its secret is shown this once:'),
        h('p', { class: 'mono', id: 'k-new-secret' }, r.AccessKey.SecretAccessKey),
        h('p', { class: 'note' }, 'It can do nothing until a policy is attached.')));
      desc.value = '';
      await load();
    } catch (x) { createErr.textContent = x.type + ': ' + x.message; }
  } }, h('h2', { id: 'k-new-h' }, 'New access key'),
  h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'k-desc' }, 'Description'), desc),
    h('button', { type: 'submit', id: 'k-create' }, 'Create key')), createErr, created);
  clear(main).append(h('h1', {}, 'Access keys'), create, list);

  async function load() {
    const r = await lever('ListAccessKeys', {});
    clear(list).append(...r.AccessKeys.map(keyCard));
    if (!r.AccessKeys.length) list.append(h('p', { class: 'note' }, 'No issued keys; only the root key exists.'));
  }

  function keyCard(k) {
    const err = errorBox('err-' + k.AccessKeyId);
    const pname = h('input', { id: 'pn-' + k.AccessKeyId, size: 24 });
    const pdoc = h('textarea', { id: 'pd-' + k.AccessKeyId, rows: 8 });
    pdoc.value = SAMPLE;
    const act = async (op, body) => {
      err.textContent = '';
      try { await lever(op, body); await load(); } catch (x) { err.textContent = x.type + ': ' + x.message; }
    };
    return h('section', { class: 'card', 'aria-labelledby': 'kh-' + k.AccessKeyId, 'data-key': k.AccessKeyId },
      h('h2', { id: 'kh-' + k.AccessKeyId, class: 'mono' }, k.AccessKeyId),
      h('p', {}, h('span', { class: 'pill' }, k.Status), ' created ', fmtTime(k.CreateDate), k.Description ? ' · ' + k.Description : ''),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'secondary', onclick: () => act('UpdateAccessKey', { AccessKeyId: k.AccessKeyId, Status: k.Status === 'Active' ? 'Inactive' : 'Active' }) },
          k.Status === 'Active' ? 'Disable' : 'Enable'),
        h('button', { type: 'button', class: 'danger', onclick: () => { if (confirm('Delete key ' + k.AccessKeyId + '?')) act('DeleteAccessKey', { AccessKeyId: k.AccessKeyId }); } }, 'Delete key')),
      h('h3', {}, 'Policies'),
      k.Policies.length ? k.Policies.map((p) => h('div', {},
        h('div', { class: 'row' }, h('strong', {}, p.PolicyName),
          h('button', { type: 'button', class: 'danger', 'aria-label': 'Remove policy ' + p.PolicyName,
            onclick: () => act('DeleteKeyPolicy', { AccessKeyId: k.AccessKeyId, PolicyName: p.PolicyName }) }, 'Remove')),
        h('pre', { class: 'policy' }, pretty(p.PolicyDocument)))) : h('p', { class: 'note' }, 'None: this key may do nothing.'),
      h('form', { onsubmit: (e) => { e.preventDefault(); act('PutKeyPolicy', { AccessKeyId: k.AccessKeyId, PolicyName: pname.value, PolicyDocument: pdoc.value }); } },
        h('label', { for: pname.id }, 'Policy name'), pname,
        h('label', { for: pdoc.id }, 'Policy document (IAM JSON)'), pdoc,
        h('button', { type: 'submit' }, 'Attach policy')), err);
  }
  try { await load(); } catch (e) {
    clear(list).append(h('p', { class: 'error', role: 'alert' }, e.type === 'AccessDeniedException' ? 'Only the root key manages access keys.' : e.message));
  }
}

function pretty(doc) {
  try { return JSON.stringify(JSON.parse(doc), null, 2); } catch { return doc; }
}
