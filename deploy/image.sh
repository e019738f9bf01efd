#!/usr/bin/env bash
# Builds the gateway image (deploy/Containerfile, FROM scratch) with podman.
#
#   deploy/image.sh [BINARY] [TAG]
#
# BINARY defaults to target/release/ai-proxy; TAG to localhost/ai-proxy:latest.
# A static binary (see the README, "Deploy") goes in alone; a dynamic one
# goes in with exactly the shared libraries `ldd` lists for it. Debug
# information is stripped from the copy. Prints the image's size.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
binary="${1:-$root/target/release/ai-proxy}"
tag="${2:-localhost/ai-proxy:latest}"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$root/deploy/podman/containers.conf}"
certs=/etc/ssl/certs/ca-certificates.crt
[ -x "$binary" ] || { echo "image: no gateway binary at $binary" >&2; exit 2; }
[ -f "$certs" ] || { echo "image: no CA bundle at $certs (apt-get install ca-certificates)" >&2; exit 2; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
rootfs="$stage/rootfs"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$stage/data"
chmod 1777 "$rootfs/tmp"
objcopy --strip-debug "$binary" "$rootfs/usr/local/bin/ai-proxy"
cp "$certs" "$rootfs/etc/ssl/certs/ca-certificates.crt"
# Shared libraries and the dynamic loader, at the paths the binary asks for.
if ldd "$binary" >/dev/null 2>&1; then
  ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' |
    while read -r lib; do cp --parents -L "$lib" "$rootfs"; done
fi
printf 'root:x:0:0::/:/nonexistent\nai-proxy:x:10001:10001::/data:/nonexistent\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nai-proxy:x:10001:\n' >"$rootfs/etc/group"
# No /etc/nsswitch.conf: glibc then reads /etc/hosts and asks DNS, which is what a pod needs.

cp "$root/deploy/Containerfile" "$stage/Containerfile"
podman build --quiet -f "$stage/Containerfile" -t "$tag" "$stage" >/dev/null
size="$(podman image inspect --format '{{.Size}}' "$tag")"
echo "image: $tag, $((size / 1024 / 1024)) MiB ($size bytes)"
