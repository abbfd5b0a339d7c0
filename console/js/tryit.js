// tryit.js - "try it": the flag draft evaluated by leverd for a context
// (key=value lines) and an entity id, with the evaluator that serves flags
// (Lever.CheckConfiguration with Context). Nothing is stored.
import { h, clear } from './dom.js';
import { checkConfiguration, debounce } from './check.js';
import { table } from './forms.js';

// "k=v" lines into a context object; numbers and booleans stay text, as
// AppConfig's Context headers send them.
function parseContext(text) {
  const ctx = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) ctx[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return ctx;
}

export function tryIt(app, profile, content) {
  const ctx = h('textarea', { id: 'try-context', rows: 3, spellcheck: 'false', placeholder: 'email=ana@example.com\ncountry=PT' });
  const entity = h('input', { id: 'try-entity', size: 24, placeholder: 'user-42' });
  const out = h('div', { id: 'try-out', 'aria-live': 'polite' });
  const run = async () => {
    let r;
    try {
      r = await checkConfiguration(app, profile, content(), { Context: parseContext(ctx.value), ...(entity.value ? { EntityId: entity.value } : {}) });
    } catch (e) { clear(out).append(h('p', { class: 'error' }, e.type + ': ' + e.message)); return; }
    if (!r.Flags) { clear(out).append(h('p', { class: 'note' }, 'Fix the document to evaluate it.')); return; }
    clear(out).append(table('Evaluated for this context', ['Flag', 'Enabled', 'Variant', 'Reason', 'Served value'], r.Flags.map((f) => h('tr', { 'data-flag': f.Flag },
      h('td', { class: 'mono' }, f.Flag), h('td', {}, f.Enabled ? 'on' : 'off'), h('td', {}, f.Variant || '—'),
      h('td', {}, f.Reason + (f.ErrorCode ? ' (' + f.ErrorCode + ')' : '')), h('td', { class: 'mono' }, JSON.stringify(f.Value)))), 'try-table'));
  };
  const later = debounce(run, 300);
  ctx.addEventListener('input', later);
  entity.addEventListener('input', later);
  const el = h('section', { class: 'card', 'aria-labelledby': 'try-h' }, h('h2', { id: 'try-h' }, 'Try it'),
    h('div', { class: 'row' }, h('div', { class: 'field' }, h('label', { for: 'try-context' }, 'Context (key=value per line)'), ctx),
      h('div', { class: 'field' }, h('label', { for: 'try-entity' }, 'Entity id'), entity),
      h('button', { type: 'button', id: 'try-run', onclick: run }, 'Evaluate')), out);
  return { el, refresh: () => { if (out.firstChild) later(); } };
}
