#!/usr/bin/env bash
# Runs the official-SDK end-to-end suite (test_sdks.py) with pytest.
#
#   AI_PROXY_BASE_URL=http://127.0.0.1:8080 AI_PROXY_OPENAI_KEY=... tests/python/run.sh [pytest args]
#
# Creates tests/python/.venv on first use and reinstalls requirements.txt only when that
# file has changed since the last install (its hash is kept in .venv/.requirements.sha256).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv"
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$wanted" >"$stamp"
fi

cd "$here"
exec "$venv/bin/python" -m pytest -p no:cacheprovider "$@"
