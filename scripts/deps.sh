#!/bin/sh
# Installs the Debian packages lever needs to build, run and test, and only
# those that are missing. Safe to run repeatedly; needs root (or sudo) when
# something is missing.
set -eu

build="build-essential cmake pkg-config libmicrohttpd-dev libsqlite3-dev
libjansson-dev libssl-dev libcurl4-openssl-dev libtre-dev libpcre2-dev libpq-dev"
# nodejs and npm run the console's browser tests in Debian's chromium.
test="libcmocka-dev python3 python3-boto3 awscli curl procps postgresql json-schema-test-suite chromium nodejs npm"

case "${1:-build}" in
  build) want="$build" ;;
  test)  want="$build $test" ;;
  bench) want="$build $test wrk nginx-light etcd-server etcd-client gnuplot-nox" ;;
  *) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac

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
[ -z "$missing" ] && exit 0

echo "deps: installing$missing" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
