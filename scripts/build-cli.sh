#!/bin/sh
# Compile the CLI users get: dist/cli/sbx, one binary made by Bun (npm @oven/bun-linux-x64, pinned in
# package.json; the binary is inside the package, nothing is downloaded) from tsc's dist/cli/main.js.
# --bytecode: precompiled, so a command starts without parsing the bundle (~28 ms of CPU for
# `sbx --version` here, against ~75 ms for Node's own start). Daemon code stays out of the bundle:
# `sbx daemon` and `sbx registry serve` run on Node (cli/runtime.ts), so the binary never loads it.
# Written beside the target and renamed over it: a failed build leaves the old binary whole.
set -e
cd "$(dirname "$0")/.."
bun=node_modules/@oven/bun-linux-x64/bin/bun
if [ ! -x "$bun" ]; then
  echo "build-cli.sh: $bun not found: run npm ci (it installs @oven/bun-linux-x64 from package.json)" >&2
  exit 1
fi
tmp=dist/cli/.sbx.tmp.$$
trap 'rm -f "$tmp"' EXIT
"$bun" build --compile --minify --bytecode --external '../../daemon/*' --outfile "$tmp" dist/cli/main.js >/dev/null
mv -f "$tmp" dist/cli/sbx
