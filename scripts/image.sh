#!/usr/bin/env bash
# Builds pgdock's container images from docker/*/Dockerfile:
#   pgdock/postgres:15          PostgreSQL 15 + pgdock (needs `make build` first)
#   pgdock/etcd, pgdock/prometheus, pgdock/postgres-exporter   from Debian packages
# on a Debian bookworm base: debian:bookworm-slim where a registry is
# reachable, else pgdock/debian:bookworm built once offline (image-base.sh).
#
#   scripts/image.sh <bin dir> [image ...]      images: postgres etcd prometheus postgres-exporter (default: all)
#
# Environment: BASE_IMAGE (force a base image).
# Progress on stderr; sizes at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. ./scripts/lib.sh
bin=$(cd "$1" && pwd)
shift
images=("$@")
[ ${#images[@]} -gt 0 ] || images=(postgres etcd prometheus postgres-exporter)
prefix=pgdock # the compose files' defaults and make up expect these names

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

# Stages the postgres image's build context under bin/image/postgres/root:
# the two binaries, the official script names (docker/rootfs), the plugin
# names as hard links to one pgdock-plugins binary and their SHA256SUMS.
# Modes are set here (COPY keeps them and makes everything root-owned), and
# checked here, before the build.
stage_postgres() {
  local ctx=$bin/image/postgres
  local root=$ctx/root
  local plugins=$root/usr/lib/pgdock/plugins
  for f in pgdock-entrypoint pgdock-healthcheck pgdock-plugins; do
    [ -x "$bin/$f" ] || { echo "image: $bin/$f missing; run make build" >&2; exit 1; }
  done
  rm -rf "$ctx"
  mkdir -p "$root/usr/local/bin" "$plugins"
  cp -a docker/rootfs/. "$root/"
  install -m 0755 "$bin/pgdock-entrypoint" "$bin/pgdock-healthcheck" "$root/usr/local/bin/"
  local names first=""
  names=$("$bin/pgdock-plugins" list)
  [ -n "$names" ] || { echo "image: pgdock-plugins lists no plugin" >&2; exit 1; }
  for n in $names; do
    if [ -z "$first" ]; then
      install -m 0755 "$bin/pgdock-plugins" "$plugins/pgdock-plugin-$n"
      first=$n
    else
      ln "$plugins/pgdock-plugin-$first" "$plugins/pgdock-plugin-$n"
    fi
  done
  (cd "$plugins" && sha256sum pgdock-plugin-* > SHA256SUMS && chmod 0644 SHA256SUMS)
  find "$ctx" -type d -exec chmod 0755 {} +
  chmod -R go-w "$ctx"
  local bad
  bad=$(find "$root" ! -type l -perm /022 -print)
  [ -z "$bad" ] || { echo "image: writable by group or others: $bad" >&2; exit 1; }
  # The legacy builder's cache key includes mtimes: keep them fixed so an
  # unchanged binary never rebuilds the layer.
  find "$ctx" -exec touch -h -d @0 {} +
  echo "$ctx"
}

# What the built postgres image must hold; fails the build otherwise.
check_postgres() { # tag
  docker run --rm --entrypoint /bin/bash "$1" -ec '
    cd /usr/lib/pgdock/plugins
    sha256sum --check --quiet SHA256SUMS
    bad=$(find /usr/lib/pgdock \( ! -user root -o ! -group root -o -perm /022 \) -print)
    [ -z "$bad" ] || { echo "not root-owned or writable by others: $bad" >&2; exit 1; }
    [ "$(id -u postgres):$(id -g postgres)" = 999:999 ]
    [ "$(stat -c %a /var/run/postgresql /run/pgdock)" = "3777
3777" ]
    pgdock-entrypoint version >/dev/null
    pgdock-healthcheck --help >/dev/null 2>&1 || [ $? -le 2 ]
    postgres --version >/dev/null
    locale -a | grep -qx en_US.utf8
  ' >&2
}

for img in "${images[@]}"; do
  [ -f "docker/$img/Dockerfile" ] || { echo "image: no docker/$img/Dockerfile" >&2; exit 1; }
  tag=$(tag_of "$img")
  ctx=docker/$img
  if [ "$img" = postgres ]; then ctx=$(stage_postgres); fi
  start=$(date +%s.%N)
  echo "image: building $tag" >&2
  docker build -q -f "docker/$img/Dockerfile" --build-arg "BASE_IMAGE=$base" \
    -t "$tag" "$ctx" >/dev/null
  if [ "$img" = postgres ]; then
    check_postgres "$tag"
    # For `make up`: which binaries this image holds.
    echo "$(docker image inspect -f '{{.Id}}' "$tag") $(binaries_digest "$bin")" > "$bin/image/postgres.built"
  fi
  awk -v t="$tag" -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "image: built %s in %.1f s\n", t, e - s }' >&2
done

echo >&2
for img in "${images[@]}"; do
  docker image ls --format '{{.Repository}}:{{.Tag}}  {{.Size}}' "$(tag_of "$img")" >&2
done
