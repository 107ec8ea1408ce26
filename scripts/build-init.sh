#!/bin/sh
# Compile the container setup helper (daemon/runtime/*.c: init.c, supervise.c, rootfs.c, resolve.c, ...) into a
# static binary next to the compiled runtime, the console addon (daemon/runtime/native/), and the tests' attack probe (test/probe/probe.c).
# Static, because they keep running across pivot_root into an image that has no host libraries.
set -e
cd "$(dirname "$0")/.."
seccomp_a=$(gcc -print-file-name=libseccomp.a)
if [ ! -f "$seccomp_a" ] || [ ! -f /usr/include/seccomp.h ]; then
  echo "build-init.sh: libseccomp.a not found: install Debian's libseccomp-dev (apt-get install libseccomp-dev, or run scripts/setup.sh)" >&2
  exit 1
fi

# build OUT SOURCES... -- LIBS...: only when a source (or a header beside it) is newer than OUT
build() {
  out=$1; shift
  srcs=; while [ "$1" != -- ]; do srcs="$srcs $1"; shift; done; shift
  stale=; [ -x "$out" ] || stale=1
  for s in $srcs $(for s in $srcs; do ls "$(dirname "$s")"/*.h 2>/dev/null; done); do [ "$s" -nt "$out" ] && stale=1; done
  [ -n "$stale" ] || return 0
  mkdir -p "$(dirname "$out")"
  gcc -static -O2 -Wall -Wextra -o "$out.tmp" $srcs "$@"
  mv "$out.tmp" "$out"
}

build dist/daemon/runtime/sbx-init daemon/runtime/*.c -- -lseccomp
# what stays for every running container: no C library (x86-64 raw system calls), a few kB
if [ "$(uname -m)" = x86_64 ]; then
  build dist/daemon/runtime/sbx-wait daemon/runtime/wait/wait.c -- -nostdlib -nostartfiles -fno-stack-protector -fno-builtin
  # and for every network's namespace holder, once sbx-init has set the namespace up
  build dist/daemon/runtime/sbx-hold daemon/runtime/hold/hold.c -- -nostdlib -nostartfiles -fno-stack-protector -fno-builtin -fno-tree-loop-distribute-patterns
fi
# the daemon's end of the console socket: a tiny N-API addon (Node cannot receive an fd itself)
node_inc=$(for d in /usr/include/node "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"; do [ -f "$d/node_api.h" ] && echo "$d" && break; done)
if [ -z "$node_inc" ]; then
  echo "build-init.sh: node_api.h not found: install Node.js's headers (Debian: libnode-dev)" >&2
  exit 1
fi
addon() {
  out=$1; shift
  stale=; [ -f "$out" ] || stale=1
  for s in "$@"; do [ "$s" -nt "$out" ] && stale=1; done
  [ -n "$stale" ] || return 0
  gcc -shared -fPIC -O2 -pthread -Wall -Wextra -DNODE_GYP_MODULE_NAME=sbx_console -I"$node_inc" -o "$out.tmp" "$@"
  mv "$out.tmp" "$out"
}
addon dist/daemon/runtime/sbx-console.node daemon/runtime/native/console.c daemon/runtime/native/relay.c
build dist/test/probe/probe test/probe/probe.c -- -pthread
