// forms.js - the small create-forms of the AppConfig pages: labelled
// fields, a submit button and the server's error shown inline.
import { h } from './dom.js';
import { errorBox } from './tree.js';

// fields: [{ name, label, el? (default a text input), hint? }]; onsubmit
// gets { name: value } and may throw an ApiError (shown in the form).
export function createForm(id, title, fields, onsubmit, submitLabel = 'Create') {
  const err = errorBox(id + '-error');
  const els = {};
  const rows = fields.map((f) => {
    const el = f.el || h('input', { size: f.size || 24, autocomplete: 'off' });
    el.id = id + '-' + f.name;
    if (f.required) el.required = true;
    els[f.name] = el;
    return h('div', { class: 'field' }, h('label', { for: el.id }, f.label), el,
      f.hint ? h('span', { class: 'note' }, f.hint) : null);
  });
  const form = h('form', { class: 'card', id, 'aria-labelledby': id + '-h', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const values = {};
    for (const [k, el] of Object.entries(els)) values[k] = el.value;
    try { await onsubmit(values); } catch (x) { err.textContent = (x.type ? x.type + ': ' : '') + x.message; }
  } }, h('h2', { id: id + '-h' }, title), h('div', { class: 'row' }, rows,
    h('button', { type: 'submit', id: id + '-submit' }, submitLabel)), err);
  form.fields = els;
  return form;
}

export function table(caption, heads, rows, id) {
  return h('table', { id }, caption ? h('caption', { class: 'note' }, caption) : null,
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))), h('tbody', {}, rows));
}
