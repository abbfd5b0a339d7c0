#!/bin/sh
# Installs the console tests' npm packages (playwright-core, axe-core) at
# the versions pinned in tests/console/package-lock.json, with `npm ci`,
# when they are missing or the lock file changed. The browser is Debian's
# chromium (scripts/deps.sh test); no browser is ever downloaded.
set -eu
dir="$(cd "$(dirname "$0")/.." && pwd)/tests/console"
stamp="$dir/node_modules/.package-lock.json"
if [ -f "$stamp" ] && [ "$stamp" -nt "$dir/package-lock.json" ]; then
  exit 0
fi
echo "deps: npm ci in tests/console" >&2
cd "$dir"
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
