#!/usr/bin/env bash
# Fuzzes the admin API from its own OpenAPI document with schemathesis: generated valid
# and invalid requests to every operation, failing on any 5xx and on answers the
# document does not describe.
#
#   tests/schemathesis/run.sh --setup-only      # create the virtualenv, nothing else
#   AI_PROXY_ADMIN_URL=http://127.0.0.1:9090 AI_PROXY_ADMIN_AUTH=admin:password \
#   AI_PROXY_FUZZ_USER_ID=1 tests/schemathesis/run.sh [schemathesis run args]
#
# The virtualenv lives in ${AI_PROXY_CACHE_DIR:-~/.cache/ai-proxy}/schemathesis-venv and
# is reinstalled only when requirements.txt changes (its hash is kept in the venv).
# Exit status 3 means the virtualenv could not be created (no python3 -m venv, no PyPI).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${AI_PROXY_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ai-proxy}/schemathesis-venv"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

setup() {
    if [[ ! -x "$venv/bin/python" ]]; then
        mkdir -p "$(dirname "$venv")"
        "${PYTHON:-python3}" -m venv "$venv" || return 1
    fi
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r "$here/requirements.txt" || return 1
        echo "$wanted" >"$stamp"
    fi
}

if ! setup; then
    echo "run.sh: could not create the schemathesis virtualenv in $venv" >&2
    exit 3
fi
if [[ "${1:-}" == "--setup-only" ]]; then
    exit 0
fi

: "${AI_PROXY_ADMIN_URL:?the admin API base URL}"
: "${AI_PROXY_ADMIN_AUTH:?user:password of an admin account}"
: "${AI_PROXY_FUZZ_USER_ID:?the id of that account}"
export AI_PROXY_FUZZ_USER_ID
export SCHEMATHESIS_HOOKS=hooks
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"

# Schemathesis keeps a crash cache in ./.schemathesis and replays it; each run starts
# from none, in a directory of its own, so a run depends on its seed alone.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
"$venv/bin/schemathesis" run "$AI_PROXY_ADMIN_URL/api/openapi.json" \
    --auth "$AI_PROXY_ADMIN_AUTH" \
    --generation-database none \
    --no-color \
    "$@"
