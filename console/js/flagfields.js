// flagfields.js - the flag editor's inputs, each tied to the JSON pointer
// of the document member it edits, so the server's violations (which name
// the pointer) are shown next to the field that caused them.
import { h } from './dom.js';

export class Fields {
  constructor() { this.map = new Map(); this.n = 0; }

  // A labelled control for pointer; returns the wrapper.
  add(pointer, label, control) {
    const id = 'ff-' + (++this.n);
    control.id = id;
    const msg = h('span', { class: 'field-error', id: id + '-err' });
    control.setAttribute('aria-describedby', id + '-err');
    this.map.set(pointer, { control, msg });
    return h('div', { class: 'field' }, h('label', { for: id }, label), control, msg);
  }

  // Shows violations at their fields; answers those no field took.
  show(violations) {
    for (const { control, msg } of this.map.values()) { msg.textContent = ''; control.removeAttribute('aria-invalid'); }
    const rest = [];
    for (const v of violations || []) {
      let best = null;
      for (const p of this.map.keys())
        if (v.Pointer && (v.Pointer === p || v.Pointer.startsWith(p + '/')) && (!best || p.length > best.length)) best = p;
      if (!best) { rest.push(v); continue; }
      const f = this.map.get(best);
      f.control.setAttribute('aria-invalid', 'true');
      f.msg.textContent = (f.msg.textContent ? f.msg.textContent + '; ' : '') + v.Reason;
    }
    return rest;
  }
}

// JSON-pointer escaping of one member name.
export const ptr = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');

// An attribute value typed by its constraint ("number", "boolean",
// "array", "string"; none: a JSON literal when the text is one).
export function typed(text, type) {
  if (type === 'string') return text;
  if (type === 'number') return text.trim() === '' || isNaN(Number(text)) ? text : Number(text);
  if (type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  try { const v = JSON.parse(text); if (type === 'array' || typeof v !== 'object' || v === null) return v; } catch { /* text */ }
  return text;
}

export const shown = (v) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
