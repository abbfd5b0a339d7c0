#!/bin/sh
# Installs the Debian packages lever needs to build, run and test, and only
# those that are missing. Safe to run repeatedly; needs root (or sudo) when
# something is missing.
set -eu

build="build-essential cmake pkg-config libsqlite3-dev
libjansson-dev libssl-dev libcurl4-openssl-dev libtre-dev libpcre2-dev libpq-dev"
# nodejs and npm run the console's browser tests in Debian's chromium.
test="libcmocka-dev python3 python3-boto3 awscli curl procps postgresql json-schema-test-suite chromium nodejs npm"

bench="wrk nginx-light etcd-server etcd-client gnuplot-nox sqlite3 git python3-matplotlib linux-perf"
fuzz="clang libclang-rt-14-dev"

# --list MODE prints what MODE installs (scripts/check-deps.py reads it).
list=0
[ "${1:-}" = "--list" ] && { list=1; shift; }
case "${1:-build}" in
  build) want="$build" ;;
  test)  want="$build $test" ;;
  bench) want="$build $test $bench" ;;
  fuzz)  want="$build $fuzz" ;;
  *) echo "usage: $0 [--list] [build|test|bench|fuzz]" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
[ "$list" = 1 ] && { printf '%s\n' $want; exit 0; }

# The OpenFeature SDK the OFREP test drives comes from the npm registry, at
# the versions of tests/ofrep/package-lock.json (npm ci), once.
npm_deps() {
  here=$(cd "$(dirname "$0")/.." && pwd)
  [ "${1:-build}" = build ] && return 0
  [ -d "$here/tests/ofrep/node_modules/@openfeature/ofrep-provider" ] && return 0
  echo "deps: npm ci in tests/ofrep" >&2
  (cd "$here/tests/ofrep" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
}
missing=""
for p in $want; do
  # A Node.js from elsewhere (NodeSource's nodejs package) brings its own
  # npm and conflicts with Debian's npm package: an npm on PATH will do.
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  npm_deps "${1:-build}"
  exit 0
fi

echo "deps: installing$missing" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
npm_deps "${1:-build}"
