#!/usr/bin/env bash
# Builds pgdock's container images from docker/*/Dockerfile:
#   pgdock/postgres:15          PostgreSQL 15 + pgdock (needs `make build` first)
#   pgdock/etcd, pgdock/prometheus, pgdock/postgres-exporter   from Debian packages
# on a Debian bookworm base: debian:bookworm-slim where a registry is
# reachable, else pgdock/debian:bookworm built once offline (image-base.sh).
#
#   scripts/image.sh <bin dir> [image ...]      images: postgres etcd prometheus postgres-exporter (default: all)
#
# Environment: BASE_IMAGE (force a base), PGDOCK_IMAGE_PREFIX (default pgdock),
# VERSION (label). Progress on stderr; a size summary at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "$1" && pwd)
shift
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(postgres etcd prometheus postgres-exporter)
prefix=${PGDOCK_IMAGE_PREFIX:-pgdock}

if ! docker info >/dev/null 2>&1; then
  echo "image: no Docker Engine reachable (docker info failed)" >&2
  exit 1
fi
base=$(./scripts/image-base.sh)
echo "image: base $base" >&2

# Engine 20.10 without the buildx plugin cannot use BuildKit; the Dockerfiles
# use only syntax the legacy builder knows, so either builder works.
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi

tag_of() {
  case $1 in
    postgres) echo "$prefix/postgres:15" ;;
    *) echo "$prefix/$1:latest" ;;
  esac
}

# Stages the postgres image's build context under bin/image/postgres: the two
# binaries, the plugin names as hard links to one pgdock-plugins binary, their
# SHA256SUMS, and docker/rootfs. Modes are set here; COPY keeps them.
stage_postgres() {
  local ctx=$bin/image/postgres
  for f in pgdock-entrypoint pgdock-healthcheck pgdock-plugins; do
    [ -x "$bin/$f" ] || { echo "image: $bin/$f missing; run make build" >&2; exit 1; }
  done
  rm -rf "$ctx"
  mkdir -p "$ctx/bin" "$ctx/plugins"
  chmod 0755 "$ctx" "$ctx/bin" "$ctx/plugins"
  install -m 0755 "$bin/pgdock-entrypoint" "$bin/pgdock-healthcheck" "$ctx/bin/"
  local names first=""
  names=$("$bin/pgdock-plugins" list)
  for n in $names; do
    if [ -z "$first" ]; then
      install -m 0755 "$bin/pgdock-plugins" "$ctx/plugins/pgdock-plugin-$n"
      first=$n
    else
      ln "$ctx/plugins/pgdock-plugin-$first" "$ctx/plugins/pgdock-plugin-$n"
    fi
  done
  (cd "$ctx/plugins" && sha256sum pgdock-plugin-* > SHA256SUMS && chmod 0644 SHA256SUMS)
  cp -a docker/rootfs "$ctx/rootfs"
  chmod -R go-w "$ctx/rootfs"
  # The context's timestamps do not matter to the cache (content does), but
  # keep them stable anyway.
  find "$ctx" -exec touch -h -d @0 {} +
  echo "$ctx"
}

for img in "${images[@]}"; do
  [ -f "docker/$img/Dockerfile" ] || { echo "image: no docker/$img/Dockerfile" >&2; exit 1; }
  tag=$(tag_of "$img")
  ctx=docker/$img
  if [ "$img" = postgres ]; then ctx=$(stage_postgres); fi
  start=$(date +%s.%N)
  echo "image: building $tag" >&2
  docker build -q -f "docker/$img/Dockerfile" --build-arg "BASE_IMAGE=$base" \
    --label "org.opencontainers.image.version=${VERSION:-dev}" \
    --label "org.opencontainers.image.source=https://github.com/pgdock/pgdock" \
    -t "$tag" "$ctx" >/dev/null
  awk -v t="$tag" -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "image: built %s in %.1f s\n", t, e - s }' >&2
done

echo >&2
for img in "${images[@]}"; do
  docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' "$(tag_of "$img")" >&2
done
