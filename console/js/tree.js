// tree.js - the parameter tree: one path's folders and parameters, one
// level at a time (Lever.ListPathChildren, 1000 a page, more on request,
// so a path stays fast however many parameters lie below), a name search
// (DescribeParameters), live updates.
import { allPages, lever, ssm } from './api.js';
import { clear, fmtTime, h } from './dom.js';
import { watch } from './live.js';

function crumbs(path) {
  const parts = path.split('/').filter(Boolean);
  const items = [h('li', {}, h('a', { href: '#/parameters?path=/' }, 'root'))];
  let acc = '';
  for (const p of parts) {
    acc += '/' + p;
    items.push(h('li', {}, h('a', { href: '#/parameters?path=' + encodeURIComponent(acc) }, p)));
  }
  return h('nav', { 'aria-label': 'Path' }, h('ol', { class: 'crumbs' }, items));
}

function paramRow(p) {
  return h('tr', {},
    h('td', { class: 'mono' }, h('a', { href: '#/parameter?name=' + encodeURIComponent(p.Name) }, p.Name)),
    h('td', {}, p.Type), h('td', {}, String(p.Version)),
    h('td', {}, fmtTime(p.LastModifiedDate)), h('td', { class: 'mono' }, p.LastModifiedUser || ''));
}

export async function renderTree(main, query) {
  const path = query.get('path') || '/';
  const q = query.get('q') || '';
  const search = h('input', { type: 'search', id: 'search', value: q, placeholder: 'part of a name' });
  const form = h('form', { class: 'toolbar', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    location.hash = '#/parameters?path=' + encodeURIComponent(path) + (search.value ? '&q=' + encodeURIComponent(search.value) : '');
  } }, h('div', { class: 'field' }, h('label', { for: 'search' }, 'Search names'), search),
  h('button', { type: 'submit' }, 'Search'),
  h('a', { class: 'button', href: '#/new?path=' + encodeURIComponent(path), id: 'new-param' }, 'New parameter'));
  const list = h('div', { id: 'tree-list', 'aria-live': 'polite' }, h('p', { class: 'note' }, 'Loading…'));
  clear(main).append(h('h1', {}, q ? 'Search: ' + q : 'Parameters ' + path), crumbs(path), form, list);

  const head = () => h('thead', {}, h('tr', {}, ['Name', 'Type', 'Version', 'Last modified', 'By'].map((t) => h('th', { scope: 'col' }, t))));
  const folderRow = (f) => h('tr', {}, h('td', { class: 'mono' },
    h('a', { href: '#/parameters?path=' + encodeURIComponent(f.Name) }, f.Name.split('/').pop() + '/')),
  h('td', {}, 'folder'), h('td', {}), h('td', {}), h('td', {}));
  let shown = 0;
  // One page of children into body; a "Show more" button when there are more.
  const page = async (token, body, caption) => {
    const r = await lever('ListPathChildren', { Path: path, MaxResults: 1000, ...(token ? { NextToken: token } : {}) });
    const rows = [...r.Folders.map(folderRow), ...r.Parameters.map(paramRow)];
    shown += rows.length;
    body.append(...rows);
    caption.textContent = shown + ' item(s) directly under ' + path + (r.NextToken ? ', more to show' : '');
    return r;
  };
  const more = (r, body, caption) => {
    list.querySelector('#tree-more')?.remove();
    if (r.NextToken) list.append(h('button', { type: 'button', class: 'secondary', id: 'tree-more', onclick: async () => more(await page(r.NextToken, body, caption), body, caption) }, 'Show more'));
  };
  const load = async () => {
    if (q) {
      const { items, revision, truncated } = await allPages('DescribeParameters',
        { MaxResults: 50, ParameterFilters: [{ Key: 'Name', Option: 'Contains', Values: [q] }] }, 'Parameters');
      clear(list).append(items.length ? h('table', {}, h('caption', { class: 'note' }, items.length + ' parameter(s)' + (truncated ? ' (first 5000 shown)' : '')),
        head(), h('tbody', {}, items.sort((a, b) => a.Name.localeCompare(b.Name)).map(paramRow)))
        : h('p', { class: 'note' }, 'No parameter name contains “' + q + '”.'));
      return revision;
    }
    shown = 0;
    const body = h('tbody', {}), caption = h('caption', { class: 'note' });
    const r = await page(null, body, caption);
    clear(list).append(shown ? h('table', {}, caption, head(), body) : h('p', { class: 'note' }, 'No parameters under ' + path + '.'));
    more(r, body, caption);
    return r.revision;
  };
  try {
    const rev = await load();
    watch(path, rev, (changes) => { load().catch(() => {}); return changes; });
  } catch (e) {
    clear(list).append(h('p', { class: 'error', role: 'alert' }, e.message));
  }
}

// Validation errors from the server, shown next to the form.
export function errorBox(id) {
  return h('p', { class: 'error', id, role: 'alert' });
}

export function renderNew(main, query) {
  const path = query.get('path') || '/';
  const name = h('input', { id: 'p-name', required: true, value: path === '/' ? '/' : path + '/', size: 60, autocomplete: 'off' });
  const type = h('select', { id: 'p-type' }, ['String', 'StringList', 'SecureString'].map((t) => h('option', { value: t }, t)));
  const value = h('textarea', { id: 'p-value', required: true });
  const desc = h('input', { id: 'p-desc', size: 60 });
  const pattern = h('input', { id: 'p-pattern', size: 40 });
  const err = errorBox('p-error');
  const form = h('form', { class: 'card', 'aria-labelledby': 'new-h', onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    const body = { Name: name.value, Value: value.value, Type: type.value };
    if (desc.value) body.Description = desc.value;
    if (pattern.value) body.AllowedPattern = pattern.value;
    try {
      await ssm('PutParameter', body);
      location.hash = '#/parameter?name=' + encodeURIComponent(name.value);
    } catch (x) {
      err.textContent = x.type + ': ' + x.message;
    }
  } },
  h('h1', { id: 'new-h' }, 'New parameter'),
  h('label', { for: 'p-name' }, 'Name'), name,
  h('label', { for: 'p-type' }, 'Type'), type,
  h('label', { for: 'p-value' }, 'Value'), value,
  h('label', { for: 'p-desc' }, 'Description (optional)'), desc,
  h('label', { for: 'p-pattern' }, 'Allowed pattern (optional regular expression)'), pattern,
  err,
  h('div', { class: 'row' }, h('button', { type: 'submit', id: 'p-create' }, 'Create'),
    h('a', { href: '#/parameters?path=' + encodeURIComponent(path) }, 'Cancel')));
  clear(main).append(form);
  name.focus();
}
