#!/usr/bin/env bash
# Makes sure a Debian base image of one release exists for pgdock's
# Dockerfiles and prints its name on stdout (progress goes to stderr).
#
#   scripts/image-base.sh [release]     bullseye, bookworm (default), trixie or sid
#
#   - If BASE_IMAGE is set, it is used as is (pulled when missing).
#   - Else if pgdock/debian:<release> was built before, it is reused.
#   - Else if debian:<release>-slim is present or can be pulled, that is used.
#   - Else (no registry) pgdock/debian:<release> is built once with
#     `debootstrap --variant=minbase <release>` and `docker import`, and reused
#     on every later call.
# Needs a reachable Docker Engine; debootstrap is installed via scripts/deps.sh
# when missing (root).
set -euo pipefail
cd "$(dirname "$0")/.."

release=${1:-bookworm}
case $release in
  bullseye | bookworm | trixie | sid) ;;
  *) echo "image-base: release $release is not one of bullseye, bookworm, trixie, sid" >&2; exit 1 ;;
esac
upstream=debian:$release-slim
local_base=pgdock/debian:$release
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
pull_timeout=${PGDOCK_PULL_TIMEOUT:-300}

have() { docker image inspect "$1" >/dev/null 2>&1; }
try_pull() { timeout "$pull_timeout" docker pull -q "$1" >/dev/null 2>&1; }

if [ -n "${BASE_IMAGE:-}" ]; then
  if ! have "$BASE_IMAGE" && ! try_pull "$BASE_IMAGE"; then
    echo "image-base: BASE_IMAGE=$BASE_IMAGE is neither present nor pullable" >&2
    exit 1
  fi
  echo "$BASE_IMAGE"
  exit 0
fi
if have "$local_base"; then
  echo "image-base: reusing $local_base (docker rmi it to rebuild)" >&2
  echo "$local_base"
  exit 0
fi
if have "$upstream" || try_pull "$upstream"; then
  echo "$upstream"
  exit 0
fi

echo "image-base: $upstream cannot be pulled (no registry?); building $local_base with debootstrap" >&2
if ! command -v debootstrap >/dev/null 2>&1; then
  ./scripts/deps.sh >&2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "image-base: debootstrap needs root" >&2
  exit 1
fi
work=$(mktemp -d /var/tmp/pgdock-debootstrap.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
debootstrap --variant=minbase "$release" "$work/root" "$mirror" >"$work/log" 2>&1 || {
  echo "image-base: debootstrap failed; its log:" >&2
  tail -n 30 "$work/log" >&2
  exit 1
}
root=$work/root
# What the official debian images do to a debootstrap tree: no apt caches or
# lists, no docs the slim variant drops, apt told to stay small.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
  "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/* "$root"/root/.cache \
  "$root"/usr/share/man/* "$root"/usr/share/info/*
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
cat > "$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
cat > "$root/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
cat > "$root/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'EOF'
Apt::AutoRemove::SuggestsImportant "false";
EOF
cat > "$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
# sid has neither -updates nor -security suites. Its Release file is valid for
# a week only (Valid-Until); a mirror that lags (the one reachable from the
# build machine here was 27 days behind) would fail every apt-get update, so
# the local sid base does not enforce it. Images built on debian:sid-slim
# from a registry keep apt's default.
if [ "$release" = sid ]; then
  printf '%s\n' "deb $mirror sid main" > "$root/etc/apt/sources.list"
  echo 'Acquire::Check-Valid-Until "false";' > "$root/etc/apt/apt.conf.d/pgdock-sid-valid-until"
else
  printf '%s\n' "deb $mirror $release main" "deb $mirror $release-updates main" \
    "deb http://deb.debian.org/debian-security $release-security main" > "$root/etc/apt/sources.list"
fi
rm -f "$root/etc/apt/sources.list.d/debian.sources" # trixie's debootstrap may write the deb822 form too
: > "$root/etc/hostname"
: > "$root/etc/resolv.conf"
tar --numeric-owner --xattrs -C "$root" -c . |
  docker import \
    -c 'CMD ["bash"]' \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -m "pgdock: debootstrap --variant=minbase $release" - "$local_base" >/dev/null
echo "image-base: built $local_base in $(($(date +%s) - start)) s" >&2
echo "$local_base"
