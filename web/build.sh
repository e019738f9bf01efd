#!/usr/bin/env bash
# Builds the web console into web/dist, which the gateway serves at / on
# the admin port. Installs the npm packages first when package-lock.json
# changed since the last install (or node_modules is missing).
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v npm >/dev/null 2>&1; then
  echo "web: installing Node.js and npm" >&2
  ../scripts/prereqs.sh nodejs npm
fi

stamp=node_modules/.lock-sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "web: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

npm run --silent build
