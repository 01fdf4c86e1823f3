#!/usr/bin/env bash
# Installs every host dependency pgdock's build, tests and benchmarks need,
# from Debian packages. Idempotent: installs only what is missing, and runs
# `apt-get update` only when something is.
set -euo pipefail

packages=(
  # PostgreSQL server, client and the tools initdb scripts use
  postgresql-15 postgresql-client-15 postgresql-contrib
  libnss-wrapper gzip xz-utils zstd procps
  # later issues: Patroni with etcd, pgBackRest, offline image builds, protobuf
  patroni etcd-server etcd-client pgbackrest debootstrap protobuf-compiler
  # benchmarks (GNU time measures peak RSS of short-lived programs)
  hyperfine time
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#packages[@]} packages present"
else
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "deps: need root to install packages (run as root or install: ${missing[*]})" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The Debian postgresql-common package would create and start a "main" cluster; we never want that.
  mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/pgdock.conf
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts the services it installs; pgdock's tests run their own instances.
  for svc in etcd patroni postgresql; do
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
    if [ -x "/etc/init.d/$svc" ]; then "/etc/init.d/$svc" stop >/dev/null 2>&1 || true; fi
  done
  echo "deps: done"
fi
