#!/usr/bin/env bash
# Runs the official-SDK end-to-end suite (test_sdks.py) with pytest.
#
#   AI_PROXY_BASE_URL=http://127.0.0.1:8080 AI_PROXY_OPENAI_KEY=... tests/python/run.sh [pytest args]
#
# The virtual environment is tests/python/.venv, kept up to date by venv.sh.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="$("$here/venv.sh")"
cd "$here"
exec "$python" -m pytest -p no:cacheprovider "$@"
