// flagform.js - the editor of one flag of a feature-flag document: name,
// description, attributes, and either an enabled toggle with attribute
// values or variants (name, enabled, rule, attribute values), the last
// variant being the default. It edits the document object in place and
// calls changed() after every edit; the server checks the result.
import { h } from './dom.js';
import { ptr, shown, typed } from './flagfields.js';

const ATYPES = ['', 'string', 'number', 'boolean', 'array'];

function text(fields, pointer, label, value, set, attrs = {}) {
  const el = h(attrs.rows ? 'textarea' : 'input', { size: attrs.size || 30, spellcheck: 'false', rows: attrs.rows });
  el.value = value === undefined ? '' : value;
  el.addEventListener('input', () => set(el.value));
  return fields.add(pointer, label, el);
}

function check(fields, pointer, label, value, set) {
  const el = h('input', { type: 'checkbox', checked: Boolean(value) });
  el.addEventListener('change', () => set(el.checked));
  return fields.add(pointer, label, el);
}

function attrValues(fields, base, defs, holder, changed) {
  return Object.keys(defs).map((a) => text(fields, base + '/' + ptr(a), 'Value of ' + a, shown(holder[a]), (v) => {
    if (v === '') delete holder[a]; else holder[a] = typed(v, defs[a].constraints?.type);
    changed();
  }, { size: 16 }));
}

export function flagForm(doc, key, fields, changed, redraw) {
  const def = doc.flags[key] ||= { name: key };
  const val = doc.values[key] ||= { enabled: false };
  const defs = def.attributes ||= {};
  const fp = '/flags/' + ptr(key), vp = '/values/' + ptr(key);
  const parts = [h('h2', { id: 'flag-h' }, 'Flag ', h('span', { class: 'mono' }, key)),
    h('div', { class: 'row' },
      text(fields, fp + '/name', 'Name', def.name, (v) => { def.name = v; changed(); }),
      text(fields, fp + '/description', 'Description', def.description, (v) => { if (v) def.description = v; else delete def.description; changed(); }, { size: 40 }))];
  // attributes and their constraints
  const newAttr = h('input', { size: 16, id: 'attr-new', placeholder: 'attribute name' });
  parts.push(h('h3', {}, 'Attributes'), ...Object.keys(defs).map((a) => {
    const type = h('select', {}, ATYPES.map((t) => h('option', { value: t, selected: (defs[a].constraints?.type || '') === t }, t || 'any')));
    type.addEventListener('change', () => { if (type.value) defs[a].constraints = { type: type.value }; else delete defs[a].constraints; changed(); });
    return h('div', { class: 'row' }, h('span', { class: 'mono' }, a), fields.add(fp + '/attributes/' + ptr(a), 'Type of ' + a, type),
      h('button', { type: 'button', class: 'danger', 'aria-label': 'Remove attribute ' + a, onclick: () => { delete defs[a]; delete val[a]; redraw(); } }, 'Remove'));
  }), h('div', { class: 'row' }, h('label', { for: 'attr-new', class: 'sr' }, 'New attribute name'), newAttr,
    h('button', { type: 'button', class: 'secondary', id: 'attr-add', onclick: () => { if (newAttr.value) { defs[newAttr.value] = {}; redraw(); } } }, 'Add attribute')));
  // the value: basic or variants
  const variants = val._variants;
  const mode = h('button', { type: 'button', class: 'secondary', id: 'flag-mode', onclick: () => {
    if (variants) doc.values[key] = { enabled: Boolean(variants[variants.length - 1]?.enabled) };
    else doc.values[key] = { _variants: [{ name: 'Variant 1', enabled: true, rule: 'true' }, { name: 'Default', enabled: Boolean(val.enabled) }] };
    redraw();
  } }, variants ? 'Make it a basic flag' : 'Use variants');
  if (!variants) {
    parts.push(h('h3', {}, 'Value'), h('div', { class: 'row' },
      check(fields, vp + '/enabled', 'Enabled', val.enabled, (v) => { val.enabled = v; changed(); }), ...attrValues(fields, vp, defs, val, changed)), mode);
    return h('section', { class: 'card', 'aria-labelledby': 'flag-h' }, parts);
  }
  parts.push(h('h3', {}, 'Variants'), h('p', { class: 'note' }, 'Tried in order; the first whose rule is true wins; the last is the default.'));
  variants.forEach((v, i) => {
    const p = vp + '/_variants/' + i;
    const last = i === variants.length - 1;
    v.attributeValues ||= {};
    parts.push(h('fieldset', { class: 'variant' }, h('legend', {}, last ? 'Default variant' : 'Variant ' + (i + 1)),
      h('div', { class: 'row' },
        text(fields, p + '/name', 'Name', v.name, (x) => { v.name = x; changed(); }, { size: 18 }),
        check(fields, p + '/enabled', 'Enabled', v.enabled, (x) => { v.enabled = x; changed(); }),
        last ? null : text(fields, p + '/rule', 'Rule', v.rule, (x) => { v.rule = x; changed(); }, { size: 50 }),
        ...attrValues(fields, p + '/attributeValues', defs, v.attributeValues, changed),
        last ? null : h('button', { type: 'button', class: 'danger', 'aria-label': 'Remove variant ' + (i + 1), onclick: () => { variants.splice(i, 1); redraw(); } }, 'Remove'))));
  });
  parts.push(h('div', { class: 'row' }, h('button', { type: 'button', class: 'secondary', id: 'variant-add', onclick: () => {
    variants.splice(variants.length - 1, 0, { name: 'Variant ' + variants.length, enabled: true, rule: 'true' });
    redraw();
  } }, 'Add variant'), mode));
  return h('section', { class: 'card', 'aria-labelledby': 'flag-h' }, parts);
}
