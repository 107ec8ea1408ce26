#!/bin/sh
# Compile the container setup helper (daemon/runtime/*.c: init.c and its parts) into a static
# binary next to the compiled runtime. Static, because it keeps running across pivot_root into an
# image that has no host libraries.
set -e
cd "$(dirname "$0")/.."
out=dist/daemon/runtime/sbx-init
mkdir -p dist/daemon/runtime
if [ ! -x "$out" ] || [ -n "$(find daemon/runtime -name '*.[ch]' -newer "$out")" ]; then
  gcc -static -O2 -Wall -Wextra -o "$out.tmp" daemon/runtime/*.c
  mv "$out.tmp" "$out"
fi
