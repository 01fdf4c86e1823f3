#!/usr/bin/env bash
# Builds pgdock/postgres-upgrade:<old>-to-<new>: pgdock/postgres:<new> with
# PostgreSQL <old>'s server programs (docker/postgres-upgrade/Dockerfile), for
# PGDOCK_UPGRADE=true on an <old> volume (docs/upgrades.md).
#
#   scripts/image-upgrade.sh <bin dir> <old major> <new major>
#
# Builds (or brings up to date: every step is cached, seconds when nothing
# changed) pgdock/postgres:<old> and :<new> first with scripts/image.sh, so
# that both carry the entrypoint of <bin dir> (the old image's rolls back an
# interrupted upgrade). Progress on stderr; the tag on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 3 ] || { echo "usage: $0 <bin dir> <old major> <new major>" >&2; exit 2; }
bin=$1 old=$2 new=$3
for m in "$old" "$new"; do
  case $m in 13 | 15 | 17 | 18) ;; *) echo "image-upgrade: $m is not one of 13, 15, 17, 18" >&2; exit 1 ;; esac
done
[ "$old" -lt "$new" ] || { echo "image-upgrade: FROM=$old must be older than TO=$new" >&2; exit 1; }
if ! docker info >/dev/null 2>&1; then
  echo "image-upgrade: no Docker Engine reachable (docker info failed)" >&2
  exit 1
fi
for m in "$old" "$new"; do
  echo "image-upgrade: pgdock/postgres:$m first" >&2
  PG_MAJOR=$m ./scripts/image.sh "$bin" postgres >&2
done
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi
tag="pgdock/postgres-upgrade:$old-to-$new"
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT
cp docker/postgres-upgrade/Dockerfile "$ctx/"
echo "image-upgrade: building $tag" >&2
docker build -t "$tag" \
  --build-arg OLD_IMAGE="pgdock/postgres:$old" --build-arg NEW_IMAGE="pgdock/postgres:$new" \
  --build-arg OLD_MAJOR="$old" "$ctx" >&2
docker image inspect -f '{{.Size}}' "$tag" | awk -v t="$tag" '{ printf "image-upgrade: %s %.0f MB\n", t, $1/1e6 }' >&2
echo "$tag"
