#!/bin/bash
# The CLI forms issue 15 asked to compare before choosing one, side by side under hyperfine against
# one idle sbxd: tsc's output under Node, an esbuild single-file bundle under Node, a Node single
# executable (SEA) with V8's code cache, a Node SEA with a startup snapshot, and the Bun binary that
# ships (dist/cli/sbx). Run after `npm run build`, as root, on a quiet machine:
#   bash bench/cli-options.sh
# The SEA forms need postject; it is installed from the npm registry into the temp dir, not the project.
# The snapshot holds cli/main.js's static imports; the command modules compile from the bundle on use
# (a snapshot that also held them failed here: "global handle not serialized").
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d /tmp/sbx-cli-options.XXXX)
trap 'kill "${daemon:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
command -v hyperfine >/dev/null || { echo "cli-options.sh: hyperfine not found: run scripts/setup.sh" >&2; exit 1; }
[ -x dist/cli/sbx ] || { echo "cli-options.sh: dist/cli/sbx not found: run npm run build" >&2; exit 1; }

esbuild=(node_modules/esbuild/bin/esbuild --bundle --platform=node --format=cjs --log-level=error
  "--define:import.meta.url=\"file://$repo/dist/cli/bundle.js\"" --define:import.meta.main=false --loader:.node=empty)
cat > "$work/entry.mjs" <<EOF
import { main } from '$repo/dist/cli/main.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; process.stdout.write('', () => process.exit(code)); });
EOF
cat > "$work/snap.mjs" <<EOF
import v8 from 'node:v8';
import { main } from '$repo/dist/cli/main.js';
v8.startupSnapshot.setDeserializeMainFunction(() => {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; process.stdout.write('', () => process.exit(code)); });
});
EOF
"${esbuild[@]}" "$work/entry.mjs" --outfile="$work/bundle.cjs"
"${esbuild[@]}" "$work/snap.mjs" --outfile="$work/snap.cjs"
(cd "$work" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund postject@1.0.0-alpha.6)
sea() { # NAME MAIN EXTRA-JSON
  printf '{ "main": "%s", "output": "%s.blob", "disableExperimentalSEAWarning": true, %s }\n' "$2" "$1" "$3" > "$work/$1.json"
  (cd "$work" && node --experimental-sea-config "$1.json" 2>/dev/null && cp "$(command -v node)" "$1" &&
    node_modules/.bin/postject "$1" NODE_SEA_BLOB "$1.blob" --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 >/dev/null 2>&1)
}
sea sea-cache bundle.cjs '"useCodeCache": true'
sea sea-snapshot snap.cjs '"useSnapshot": true'

export SBX_ROOT="$work/root" SBX_NO_AUTOSTART=1 MALLOC_ARENA_MAX=1
node --max-semi-space-size=1 --no-sparkplug --expose-gc dist/daemon/main.js 2>/dev/null &
daemon=$!
for _ in $(seq 100); do [ -S "$SBX_ROOT/sbx.sock" ] && break; sleep 0.1; done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
forms=(-n 'tsc output under Node' "node dist/cli/main.js" -n 'esbuild single-file bundle under Node' "node $work/bundle.cjs"
  -n 'Node SEA + code cache' "$work/sea-cache" -n 'Node SEA + startup snapshot' "$work/sea-snapshot" -n 'Bun binary (shipped)' "dist/cli/sbx")
for verb in ps --version; do
  args=(); for ((i = 0; i < ${#forms[@]}; i += 3)); do args+=("${forms[i]}" "${forms[i+1]}" "${forms[i+2]} $verb"); done
  echo "## sbx $verb (idle daemon)"
  hyperfine -N --warmup 3 --runs 30 --style none --export-markdown "$work/table.md" -n 'node -e 0' 'node -e 0' "${args[@]}" >/dev/null
  cat "$work/table.md"
done
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
