#!/usr/bin/env bash
# Tests the web console: the type check (tsc, over the API types the build
# generates from openapi.json), unit tests (vitest), then end-to-end tests in
# headless Chromium (Debian's package, installed when missing) against the
# real gateway and mock upstream from $CARGO_TARGET_DIR/debug (default
# target/debug; `cargo build --workspace --bins` makes them). Prints where
# the screenshots are.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "web: installing chromium" >&2
  ../scripts/prereqs.sh chromium
fi

./build.sh

target="${CARGO_TARGET_DIR:-target}"
case "$target" in /*) ;; *) target="../$target" ;; esac
if [ ! -x "$target/debug/ai-proxy" ] || [ ! -x "$target/debug/mock-upstream" ]; then
  echo "web: building the gateway and the mock upstream" >&2
  (cd .. && cargo build --locked --bins -p ai-proxy -p ai-proxy-tests)
fi

echo "== web type check"
npm run --silent typecheck

echo "== web unit tests"
npx vitest run

echo "== web end-to-end tests"
node e2e/run.mjs
