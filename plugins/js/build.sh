#!/usr/bin/env bash
# Builds the JavaScript provider plugins: for each plugin directory named
# (default: every directory here with a package.json, except the SDK), it
# installs the locked dependencies (`npm ci`), runs the unit tests with
# node's test runner, and compiles src/index.js to a WebAssembly component
# with componentize-qjs at <plugin>/dist/<plugin>.wasm.
#
#   plugins/js/build.sh [NAME...]
#
# Needs node >= 18 and npm; on a machine without them it installs Debian's
# nodejs and npm packages.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  "$root/scripts/prereqs.sh" nodejs npm
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for dir in "$here"/*/; do
    name="$(basename "$dir")"
    [ "$name" != sdk ] && [ -f "$dir/package.json" ] && names+=("$name")
  done
fi

echo "== JS plugin SDK: unit tests"
(cd "$here/sdk" && node --test test/)

for name in "${names[@]}"; do
  dir="$here/$name"
  echo "== JS plugin $name: npm ci, unit tests, component"
  (
    cd "$dir"
    npm ci --no-audit --no-fund --loglevel=error
    node --test test/
    mkdir -p dist
    # A plugin whose entry exports `streamControl` can end a stream cut at
    # a client's quota: it targets the world with `stream-control`.
    world=provider-plugin-with-endpoints
    if grep -q '^export const streamControl' src/index.js; then
      world=provider-plugin-with-stream-control
    fi
    # --sync: no component-model async ABI. The component also imports the
    # WASI 0.2 interfaces QuickJS links against (clocks, random, cli,
    # filesystem types), which the gateway satisfies with nothing granted.
    # (--stub-wasi would drop them, but composes a stub component whose
    # extra linear memories exceed the gateway's per-component limit.)
    node_modules/.bin/componentize-qjs \
      --wit "$root/wit" --world "$world" \
      --js src/index.js --module-root "$here" \
      --sync \
      --output "dist/$name.wasm" >/dev/null
  )
  echo "built $dir/dist/$name.wasm ($(stat -c %s "$dir/dist/$name.wasm") bytes)"
done
