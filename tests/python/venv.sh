#!/usr/bin/env bash
# Makes sure tests/python/.venv holds requirements.txt and prints its python.
#
# Creates the environment on first use and reinstalls requirements.txt only when that
# file has changed since the last install (its hash is kept in .venv/.requirements.sha256).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
stamp="$venv/.requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

if [[ ! -x "$venv/bin/python" ]]; then
    "${PYTHON:-python3}" -m venv "$venv" >&2
fi
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$wanted" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
    echo "$wanted" >"$stamp"
fi
echo "$venv/bin/python"
