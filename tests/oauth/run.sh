#!/usr/bin/env bash
# Starts the test OAuth 2.0 server (see server.mjs): installs its npm
# packages on first use (npm ci), then runs it in the foreground.
# Usage: tests/oauth/run.sh PORT CONTROL_PORT
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/oauth2-mock-server ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
exec node server.mjs "$@"
