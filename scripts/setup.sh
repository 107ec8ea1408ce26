#!/usr/bin/env bash
# Installs everything sbx and its tests need on Debian 12, as root: Debian packages (busybox-static
# for the base image, util-linux for namespaces, and the real peers used by interop tests and
# benchmarks; chromium for the web page's browser tests), the npm packages from the lockfile, and the build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then echo "setup.sh: run as root (sbx needs namespaces and mounts)" >&2; exit 1; fi

PKGS=(busybox-static util-linux gcc libc6-dev libseccomp-dev iproute2 passt tini skopeo umoci podman runc buildah docker-registry apache2-utils uidmap wrk hyperfine chromium docker-compose)
missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
# Debian's docker-registry package starts a service on :5000; tests run their own registries.
systemctl disable --now docker-registry >/dev/null 2>&1 || true
pkill -f '/usr/bin/docker-registry serve /etc/docker/registry/config.yml' >/dev/null 2>&1 || true

# Debian's docker CLI for the Docker Engine API tests (issue 17): only its client binary, extracted from
# the docker.io package into a project-owned directory. The package is never installed, dockerd never runs.
DOCKER_CLI_DIR=/opt/sbx/docker-cli
if [ ! -x "$DOCKER_CLI_DIR/docker" ]; then
  tmp=$(mktemp -d); chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q docker.io)
  mkdir -p "$DOCKER_CLI_DIR"
  dpkg-deb --fsys-tarfile "$tmp"/docker.io_*.deb | tar -x -C "$tmp" ./usr/bin/docker
  install -m 755 "$tmp/usr/bin/docker" "$DOCKER_CLI_DIR/docker"
  rm -rf "$tmp"
fi

# npm ci brings Bun's binary inside its npm package (@oven/bun-linux-x64, pinned); the build compiles the
# CLI with it into dist/cli/sbx (scripts/build-cli.sh), and npm link puts that binary on the PATH as sbx.
npm ci --no-audit --no-fund
npm run build
npm link --no-audit --no-fund >/dev/null
if [ "$(readlink -f "$(command -v sbx)")" != "$(readlink -f dist/cli/sbx)" ]; then
  echo "setup.sh: sbx on the PATH is $(command -v sbx || echo nothing), not this build's dist/cli/sbx" >&2
  exit 1
fi
