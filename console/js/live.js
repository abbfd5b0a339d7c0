// live.js - live updates: a Lever.WatchParameters long poll under a path
// (or Lever.WatchConfigurations on an environment), restarted whenever the
// page changes. No timer-driven refresh of pages.
import { lever } from './api.js';
import { status } from './dom.js';

let current = null;

export function stopWatch() {
  if (current) { current.abort.abort(); current = null; }
}

// Calls onChange(changes) after every answer that holds changes, and
// onChange(null) when the log was compacted (the page should re-list).
export function watch(path, since, onChange) {
  poll('WatchParameters', { Path: path, Recursive: true }, 'watching ' + path, since, onChange);
}

// The same over deployments of an application's environment.
export function watchConfigs(app, env, since, onChange) {
  poll('WatchConfigurations', { Application: app, Environment: env }, 'watching deployments', since, onChange);
}

function poll(op, body, what, since, onChange) {
  stopWatch();
  const me = { abort: new AbortController() };
  current = me;
  (async () => {
    let rev = since;
    let failures = 0;
    status('Live: ' + what);
    document.getElementById('status').className = 'status live';
    while (current === me) {
      try {
        const r = await lever(op, { ...body, SinceRevision: rev, WaitSeconds: 20 },
          { signal: me.abort.signal });
        failures = 0;
        rev = r.Revision;
        if (current !== me) return;
        if (r.Changes && r.Changes.length) {
          status('Live: ' + r.Changes.length + ' change(s) at ' + new Date().toLocaleTimeString());
          onChange(r.Changes);
        }
      } catch (e) {
        if (current !== me || e.name === 'AbortError') return;
        if (e.type === 'RevisionCompactedException') {
          rev = e.data.CurrentRevision;
          onChange(null);
          continue;
        }
        if (e.status === 401 || e.type === 'AccessDeniedException') {
          status('Live updates are off: ' + e.message);
          document.getElementById('status').className = 'status';
          return;
        }
        failures++;
        status('Live: reconnecting (' + e.message + ')');
        await new Promise((res) => setTimeout(res, Math.min(10000, 500 * 2 ** failures)));
      }
    }
  })();
}
