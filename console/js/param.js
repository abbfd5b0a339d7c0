// param.js - one parameter: its value (a SecureString stays hidden until
// revealed, and only a key allowed kms:Decrypt can), edit, versions with a
// diff between any two, labels (attach / move / remove), delete.
import { allPages, ssm } from './api.js';
import { clear, fmtTime, h } from './dom.js';
import { diffLines } from './diff.js';
import { watch } from './live.js';
import { errorBox } from './tree.js';

const HIDDEN = '••••••••';

function parentPath(name) {
  const i = name.lastIndexOf('/');
  return i <= 0 ? '/' : name.slice(0, i);
}

export async function renderParam(main, query) {
  const name = query.get('name');
  const state = { revealed: false, plain: new Map() }; // version -> decrypted value
  const body = h('div', {}, h('p', { class: 'note' }, 'Loading…'));
  clear(main).append(
    h('nav', { 'aria-label': 'Path' }, h('a', { href: '#/parameters?path=' + encodeURIComponent(parentPath(name)) }, '← ' + parentPath(name))),
    h('h1', {}, name), body);

  const load = async () => {
    const meta = await ssm('GetParameter', { Name: name });
    const hist = await allPages('GetParameterHistory', { Name: name, MaxResults: 50, WithDecryption: state.revealed }, 'Parameters', 100000);
    if (state.revealed) for (const v of hist.items) state.plain.set(v.Version, v.Value);
    draw(meta.Parameter, hist.items);
    return meta.revision;
  };

  const valueOf = (p, v) => (p.Type === 'SecureString' ? (state.plain.has(v.Version) ? state.plain.get(v.Version) : null) : v.Value);

  function draw(p, versions) {
    const cur = versions.find((v) => v.Version === p.Version) || { ...p, Labels: [] };
    const secure = p.Type === 'SecureString';
    const shown = valueOf(p, cur);
    const revealErr = errorBox('reveal-error');
    const valueBox = h('div', { class: 'value' + (shown === null ? ' hidden-value' : ''), id: 'param-value' }, shown === null ? HIDDEN : shown);
    const reveal = secure ? h('button', { type: 'button', class: 'secondary', id: 'reveal', 'aria-controls': 'param-value', onclick: async () => {
      if (state.revealed) { state.revealed = false; state.plain.clear(); load(); return; }
      revealErr.textContent = '';
      try {
        const r = await ssm('GetParameter', { Name: name, WithDecryption: true });
        state.revealed = true;
        state.plain.set(r.Parameter.Version, r.Parameter.Value);
        await load();
        document.getElementById('reveal')?.focus();
      } catch (e) {
        revealErr.textContent = 'Cannot reveal: ' + e.message;
      }
    } }, state.revealed ? 'Hide value' : 'Reveal value') : null;

    // Edit: a new version with Overwrite.
    const editValue = h('textarea', { id: 'edit-value' });
    if (shown !== null) editValue.value = shown;
    const editDesc = h('input', { id: 'edit-desc', size: 60, value: cur.Description || '' });
    const editErr = errorBox('edit-error');
    const edit = h('form', { class: 'card', 'aria-labelledby': 'edit-h', onsubmit: async (e) => {
      e.preventDefault();
      editErr.textContent = '';
      const b = { Name: name, Value: editValue.value, Type: p.Type, Overwrite: true };
      if (editDesc.value) b.Description = editDesc.value;
      try { await ssm('PutParameter', b); await load(); } catch (x) { editErr.textContent = x.type + ': ' + x.message; }
    } }, h('h2', { id: 'edit-h' }, 'Edit (creates version ' + (p.Version + 1) + ')'),
    h('label', { for: 'edit-value' }, 'New value'), editValue,
    secure && shown === null ? h('p', { class: 'note' }, 'The current value is hidden; reveal it to start from it.') : null,
    h('label', { for: 'edit-desc' }, 'Description'), editDesc, editErr,
    h('button', { type: 'submit', id: 'edit-save' }, 'Save new version'));

    // Versions and labels.
    const rows = versions.slice().sort((a, b) => b.Version - a.Version).map((v) => {
      const val = valueOf(p, v);
      return h('tr', {}, h('td', {}, String(v.Version)), h('td', {}, fmtTime(v.LastModifiedDate)),
        h('td', { class: 'mono' }, v.LastModifiedUser || ''),
        h('td', {}, (v.Labels || []).map((l) => h('span', { class: 'pill' }, l,
          h('button', { type: 'button', class: 'secondary', 'aria-label': 'Remove label ' + l + ' from version ' + v.Version,
            onclick: async () => {
              labelErr.textContent = '';
              try { await ssm('UnlabelParameterVersion', { Name: name, ParameterVersion: v.Version, Labels: [l] }); await load(); } catch (x) { labelErr.textContent = x.type + ': ' + x.message; }
            } }, '×')))),
        h('td', { class: 'mono' }, val === null ? HIDDEN : val.length > 80 ? val.slice(0, 80) + '…' : val));
    });
    const versionOptions = (sel) => versions.slice().sort((a, b) => b.Version - a.Version)
      .map((v) => h('option', { value: String(v.Version), selected: v.Version === sel }, 'version ' + v.Version));

    const labelName = h('input', { id: 'label-name', size: 20, autocomplete: 'off' });
    const labelVersion = h('select', { id: 'label-version' }, versionOptions(p.Version));
    const labelErr = errorBox('label-error');
    const labels = h('form', { class: 'card', 'aria-labelledby': 'labels-h', onsubmit: async (e) => {
      e.preventDefault();
      labelErr.textContent = '';
      try {
        const r = await ssm('LabelParameterVersion', { Name: name, ParameterVersion: Number(labelVersion.value), Labels: [labelName.value] });
        if (r.InvalidLabels && r.InvalidLabels.length) labelErr.textContent = 'Invalid label: ' + r.InvalidLabels.join(', ');
        else { labelName.value = ''; await load(); }
      } catch (x) { labelErr.textContent = x.type + ': ' + x.message; }
    } }, h('h2', { id: 'labels-h' }, 'Attach or move a label'),
    h('p', { class: 'note' }, 'A label already on another version moves to the one chosen.'),
    h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'label-name' }, 'Label'), labelName),
      h('div', { class: 'field' }, h('label', { for: 'label-version' }, 'Version'), labelVersion),
      h('button', { type: 'submit', id: 'label-attach' }, 'Attach')), labelErr);

    // Diff between any two versions.
    const from = h('select', { id: 'diff-from' }, versionOptions(Math.max(1, p.Version - 1)));
    const to = h('select', { id: 'diff-to' }, versionOptions(p.Version));
    const out = h('div', { id: 'diff-out', class: 'diff', 'aria-live': 'polite' });
    const showDiff = () => {
      const a = versions.find((v) => v.Version === Number(from.value));
      const b = versions.find((v) => v.Version === Number(to.value));
      clear(out);
      const av = a && valueOf(p, a), bv = b && valueOf(p, b);
      if (av === null || bv === null || av === undefined || bv === undefined) {
        out.append(h('div', {}, secure ? 'Reveal the values to compare them.' : 'Choose two versions.'));
        return;
      }
      for (const d of diffLines(av, bv))
        out.append(h('div', { class: d.op === '-' ? 'del' : d.op === '+' ? 'ins' : 'same' },
          d.op === '-' ? h('del', {}, '- ' + d.t) : d.op === '+' ? h('ins', {}, '+ ' + d.t) : '  ' + d.t));
    };
    from.addEventListener('change', showDiff);
    to.addEventListener('change', showDiff);
    const diff = h('section', { class: 'card', 'aria-labelledby': 'diff-h' }, h('h2', { id: 'diff-h' }, 'Compare versions'),
      h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'diff-from' }, 'From'), from),
        h('div', { class: 'field' }, h('label', { for: 'diff-to' }, 'To'), to)), out);

    const delErr = errorBox('delete-error');
    const del = h('button', { type: 'button', class: 'danger', id: 'delete', onclick: async () => {
      if (!confirm('Delete ' + name + ' and all its versions?')) return;
      try { await ssm('DeleteParameter', { Name: name }); location.hash = '#/parameters?path=' + encodeURIComponent(parentPath(name)); } catch (x) { delErr.textContent = x.type + ': ' + x.message; }
    } }, 'Delete parameter');

    clear(body).append(
      h('p', {}, h('span', { class: 'pill' }, p.Type), ' version ', h('strong', { id: 'param-version' }, String(p.Version)),
        ' · modified ', fmtTime(p.LastModifiedDate), cur.LastModifiedUser ? ' by ' + cur.LastModifiedUser : '',
        cur.Description ? h('span', {}, ' · ', cur.Description) : null),
      h('h2', {}, 'Value'), valueBox, h('div', { class: 'row' }, reveal), revealErr,
      edit, labels,
      h('section', { 'aria-labelledby': 'versions-h' }, h('h2', { id: 'versions-h' }, 'Versions'),
        h('table', { id: 'versions' }, h('thead', {}, h('tr', {}, ['Version', 'Date', 'By', 'Labels', 'Value'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, rows))),
      diff, h('div', { class: 'row' }, del), delErr);
    showDiff();
  }

  try {
    const rev = await load();
    const dir = parentPath(name);
    const bare = name.startsWith('/') ? name : '/' + name;
    watch(dir, rev, (changes) => {
      if (changes === null || changes.some((c) => c.Name === name || c.Name === bare)) load().catch((e) => {
        if (e.type === 'ParameterNotFound') clear(body).append(h('p', { class: 'error', role: 'alert' }, name + ' was deleted.'));
      });
    });
  } catch (e) {
    clear(body).append(h('p', { class: 'error', role: 'alert' }, e.type + ': ' + e.message));
  }
}
