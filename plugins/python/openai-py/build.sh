#!/usr/bin/env bash
# Builds the Python example plugin with componentize-py (from PyPI, into a
# virtual environment under ~/.cache/ai-proxy) to dist/openai-py.wasm.
#
#   plugins/python/openai-py/build.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
venv="${AI_PROXY_COMPONENTIZE_PY_VENV:-$HOME/.cache/ai-proxy/componentize-py-venv}"
if [ ! -x "$venv/bin/componentize-py" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet componentize-py==0.25.1
fi
mkdir -p "$here/dist"
cd "$here"
"$venv/bin/componentize-py" -d "$root/wit" -w provider-plugin-with-endpoints \
  componentize app -o dist/openai-py.wasm 2>&1 | grep -v SyntaxWarning | grep -v 'above the root' || true
test -f dist/openai-py.wasm
echo "built $here/dist/openai-py.wasm ($(stat -c %s dist/openai-py.wasm) bytes)"
