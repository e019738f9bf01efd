#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and run ai-proxy:
# cmake (Pingora's zlib-ng build needs it) and the wasm32-wasip2 target
# (the built-in plugins are compiled to WebAssembly components).
# Extra Debian packages can be named as arguments.
set -euo pipefail

need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "prereqs: installing ${need[*]}" >&2
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get install -y "${need[@]}" >/dev/null 2>&1 || {
    $sudo_cmd apt-get update >/dev/null
    $sudo_cmd apt-get install -y "${need[@]}" >/dev/null
  }
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-wasip2; then
  echo "prereqs: adding the wasm32-wasip2 target" >&2
  rustup target add wasm32-wasip2 >/dev/null
fi
