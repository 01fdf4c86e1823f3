#!/usr/bin/env bash
# Statement coverage per module, integration tier included: unit tests write
# binary coverage data (-test.gocoverdir) and the integration tests' entrypoint
# binary is built with -cover (PGDOCK_COVERDIR), all into one directory per
# module, merged by `go tool covdata`. Test helpers and the benchmark program
# are not counted.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/coverage"
rm -rf "$out"
mkdir -p "$out"
chmod 755 "$out"
summary=()
for mod in "$@"; do
  name=${mod//\//-}
  data="$out/$name"
  mkdir -p "$data"
  chmod 1777 "$data" # the entrypoint under test steps down to the postgres user
  cd "$root/$mod"
  pkgs=$(go list ./... | grep -v -e '/bench' -e 'pgdock-bench' -e '/testpg' -e '/integration' -e '/internal/echo' -e '/internal/faulty' -e '/internal/testplugin' -e '/internal/pgtest' -e '/proto/' | paste -sd, -)
  PGDOCK_COVERDIR="$data" go test -count=1 -timeout 20m -covermode=set -coverpkg="$pkgs" ./... -args -test.gocoverdir="$data" >"$out/$name.log" 2>&1 || {
    echo "tests failed in $mod; see $out/$name.log" >&2
    tail -20 "$out/$name.log" >&2
    exit 1
  }
  go tool covdata textfmt -i="$data" -o "$out/$name.txt"
  total=$(go tool cover -func="$out/$name.txt" | awk '/^total:/ {print $3}')
  go tool cover -func="$out/$name.txt" > "$out/$name.func"
  summary+=("$(printf '%-20s %s' "$mod" "$total")")
done
echo "statement coverage (integration tier included):"
printf '  %s\n' "${summary[@]}"
echo "per-function detail: $out/<module>.func"
