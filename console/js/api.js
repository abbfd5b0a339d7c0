// api.js - the console's one way to the server: same-origin JSON calls to
// /console/api/<Target>, which leverd runs as API calls by the signed-in
// key. Every call carries the session's CSRF token.
let session = null;
let expiredHandler = () => {};

export class ApiError extends Error {
  constructor(status, type, message) {
    super(message || type);
    this.status = status;
    this.type = type;
  }
}

export function currentSession() { return session; }
export function onExpired(fn) { expiredHandler = fn; }

async function call(url, body, opts = {}) {
  const headers = { 'Content-Type': 'application/json' };
  if (session) headers['X-Lever-Csrf'] = session.CsrfToken;
  const r = await fetch(url, {
    method: 'POST', headers, body: JSON.stringify(body || {}),
    credentials: 'same-origin', signal: opts.signal,
  });
  const text = await r.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { message: text }; }
  if (!r.ok) {
    const e = new ApiError(r.status, data.__type || 'Error', data.message || data.Message || r.statusText);
    e.data = data;
    if (r.status === 401 && url.startsWith('/console/api/')) {
      session = null;
      expiredHandler(e);
    }
    throw e;
  }
  Object.defineProperty(data, 'revision', { value: Number(r.headers.get('x-lever-revision') || 0), enumerable: false });
  return data;
}

export function api(target, body, opts) { return call('/console/api/' + target, body, opts); }
export const ssm = (op, body, opts) => api('AmazonSSM.' + op, body, opts);
export const lever = (op, body, opts) => api('Lever.' + op, body, opts);

export async function loadSession() {
  const r = await fetch('/console/session', { credentials: 'same-origin' });
  session = r.ok ? await r.json() : null;
  return session;
}

export async function signIn(akid, secret) {
  session = null;
  session = await call('/console/signin', { AccessKeyId: akid, SecretAccessKey: secret });
  return session;
}

export async function signOut() {
  try { await call('/console/signout', {}); } finally { session = null; }
}

// Every page of a paged SSM call (NextToken), up to limit items.
export async function allPages(op, body, key, limit = 5000) {
  const out = [];
  let token;
  let revision = 0;
  do {
    const r = await ssm(op, token ? { ...body, NextToken: token } : body);
    if (!revision) revision = r.revision;
    out.push(...(r[key] || []));
    token = r.NextToken;
  } while (token && out.length < limit);
  return { items: out, revision, truncated: Boolean(token) };
}

// The AppConfig REST API as the signed-in key: /console/ac/<path>. body is
// JSON (an object) or raw text with headers['Content-Type'] (hosted
// content). Answers { data, text, headers }.
export async function ac(method, path, body, headers = {}) {
  const hs = { ...headers };
  if (session) hs['X-Lever-Csrf'] = session.CsrfToken;
  let payload;
  if (body !== undefined && typeof body !== 'string') { payload = JSON.stringify(body); hs['Content-Type'] = 'application/json'; }
  else payload = body;
  const r = await fetch('/console/ac' + path, { method, headers: hs, body: payload, credentials: 'same-origin' });
  const text = await r.text();
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = {}; }
  if (!r.ok) {
    const e = new ApiError(r.status, r.headers.get('x-amzn-ErrorType') || data.__type || 'Error', data.Message || data.message || r.statusText);
    e.data = data;
    if (r.status === 401 && (data.__type === 'SessionExpired')) { session = null; expiredHandler(e); }
    throw e;
  }
  return { data, text, headers: r.headers, revision: Number(r.headers.get('x-lever-revision') || 0) };
}

export const enc = encodeURIComponent;
