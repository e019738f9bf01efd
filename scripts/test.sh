#!/usr/bin/env bash
# Runs every test: formatting and lints, unit tests (host, SDK, plugins,
# the JavaScript plugins under node),
# integration tests against the real gateway on SQLite and PostgreSQL, and
# the official Python SDKs through the gateway, and the web console (unit
# tests, then headless Chromium against the gateway built here).
#
# PostgreSQL (127.0.0.1:5432) tests are skipped with a printed reason when
# it is unreachable, unless AI_PROXY_REQUIRE_SERVICES=1.
set -euo pipefail
cd "$(dirname "$0")/.."
# openssl: the JWT tests generate an RSA key pair with it; redis-server and
# redis-tools: the Redis outage test runs a server of its own; podman and
# runc: the deployment tests build and run the image; jq: the plugin
# author's walkthrough in sdk/README.md (run by plugin_new_cli) reads ids
# from the admin API with it.
scripts/prereqs.sh openssl redis-server redis-tools podman runc jq

echo "== build the web console (embedded in the gateway binary)"
web/build.sh

echo "== fmt and clippy"
cargo fmt --all -- --check
cargo clippy --locked --workspace --all-targets -- -D warnings

echo "== build the gateway and the test fixtures"
cargo build --locked --workspace --bins
# The JavaScript plugins (npm ci, node unit tests, components in
# plugins/js/*/dist/), which the end-to-end tests load.
plugins/js/build.sh

echo "== tests"
cargo test --locked --workspace --no-fail-fast -- --test-threads "${AI_PROXY_TEST_THREADS:-2}"

echo "== web console"
web/test.sh
