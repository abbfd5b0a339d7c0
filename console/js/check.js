// check.js - a draft configuration checked by the server as you type:
// Lever.CheckConfiguration runs leverd's own checks (JSON syntax, the
// feature-flag validator and rule parser, the profile's validators) and
// stores nothing. The console has no validator of its own.
import { lever } from './api.js';
import { clear, h } from './dom.js';

// Asks the server about content; answers the CheckConfiguration result.
export function checkConfiguration(app, profile, content, extra = {}) {
  return lever('CheckConfiguration', { Application: app, ConfigurationProfile: profile, Content: content, ...extra });
}

// Calls fn after ms without a new call (typing pauses).
export function debounce(fn, ms) {
  let t = null;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

// A box listing a check's violations (or "valid"), announced politely.
export function violationsBox(id) {
  const box = h('div', { id, class: 'check', role: 'status', 'aria-live': 'polite' });
  box.show = (r) => {
    clear(box);
    if (!r) return;
    if (r.error) { box.append(h('p', { class: 'error' }, r.error)); box.className = 'check bad'; return; }
    if (r.Valid) { box.append(h('p', { class: 'ok' }, '✓ Valid: leverd accepts this configuration.')); box.className = 'check good'; return; }
    box.className = 'check bad';
    box.append(h('p', { class: 'error' }, 'Not valid (' + (r.Stage || 'check') + '):'),
      h('ul', {}, r.Violations.map((v) => h('li', { class: 'mono' }, (v.Pointer ? v.Pointer + ': ' : '') + v.Reason))));
  };
  return box;
}

// A textarea whose content is checked after every pause in typing.
// onResult(result) sees each answer; .check() checks now (a promise).
export function checkedEditor({ app, profile, contentType, value, id = 'ed-content', label = 'Content' }) {
  const ta = h('textarea', { id, rows: 14, spellcheck: 'false', 'aria-describedby': id + '-check' });
  ta.value = value || '';
  const box = violationsBox(id + '-check');
  const ed = { textarea: ta, box, last: null, onResult: () => {} };
  let seq = 0;
  ed.check = async () => {
    const mine = ++seq;
    try {
      const r = await checkConfiguration(app, profile, ta.value, contentType ? { ContentType: contentType() } : {});
      if (mine !== seq) return ed.last;
      ed.last = r;
    } catch (e) {
      if (mine !== seq) return ed.last;
      ed.last = { Valid: false, error: e.type + ': ' + e.message };
    }
    ta.setAttribute('aria-invalid', ed.last.Valid ? 'false' : 'true');
    box.show(ed.last);
    ed.onResult(ed.last);
    return ed.last;
  };
  ta.addEventListener('input', debounce(() => ed.check(), 300));
  ed.el = h('div', {}, h('label', { for: id }, label), ta, box);
  return ed;
}
