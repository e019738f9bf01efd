#!/usr/bin/env bash
# Runs podman-compose on deploy/compose.yaml with the project's podman
# settings:  deploy/compose.sh [-p PROJECT] up -d | down -v | ps | logs
#
# Debian 12's podman-compose (1.0.3) adds a bridge network to services
# with `network_mode: host`, which podman refuses; this uses a pinned newer
# release from PyPI in a virtual environment of its own (created on first
# use under ~/.cache/ai-proxy).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version=1.3.0
venv="${AI_PROXY_COMPOSE_VENV:-$HOME/.cache/ai-proxy/podman-compose-$version}"
if [ ! -x "$venv/bin/podman-compose" ]; then
  echo "compose: installing podman-compose $version into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "podman-compose==$version"
fi
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/deploy/podman/containers.conf}"
project=()
if [ "${1:-}" = "-p" ]; then project=(-p "$2"); shift 2; fi
exec "$venv/bin/podman-compose" "${project[@]}" -f "$root/deploy/compose.yaml" "$@"
