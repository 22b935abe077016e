#!/usr/bin/env bash
# Builds the deskbridge serve container image from deploy/Containerfile:
# a static binary (CGO off) on scratch, the host's CA roots, a data
# directory owned by the image's user. Needs Go and podman (or buildah);
# no registry: nothing is pulled.
#
#   scripts/build-image.sh [TAG]     (default deskbridge:latest)
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-deskbridge:latest}"
builder=$(command -v podman || command -v buildah || true)
[[ -n "$builder" ]] || { echo "build-image: podman (or buildah) is not installed: apt-get install -y podman" >&2; exit 1; }
ca=/etc/ssl/certs/ca-certificates.crt
[[ -f "$ca" ]] || { echo "build-image: no CA roots at $ca (apt-get install -y ca-certificates): the image needs them for https desks" >&2; exit 1; }
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
CGO_ENABLED=0 go build -ldflags='-s -w' -o "$ctx/deskbridge" ./cmd/deskbridge
cp deploy/Containerfile "$ctx/Containerfile"
cp "$ca" "$ctx/ca-certificates.crt"
mkdir "$ctx/data"
# --format docker keeps the HEALTHCHECK (the OCI format has none).
"$builder" build --format docker -q -t "$tag" -f "$ctx/Containerfile" "$ctx" >/dev/null
echo "build-image: built $tag ($(du -h "$ctx/deskbridge" | cut -f1) binary on scratch)"
