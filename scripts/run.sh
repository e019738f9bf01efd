#!/usr/bin/env bash
# Runs the gateway: proxy on :8080, admin API and web console on :9090,
# SQLite under ./data. Builds the console (web/dist) first.
# Set AI_PROXY_PROFILE=dev for a faster first build (slower gateway).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh
web/build.sh
profile="${AI_PROXY_PROFILE:-release}"
exec cargo run --locked --profile "$profile" -p ai-proxy -- serve
