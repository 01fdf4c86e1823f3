#!/usr/bin/env bash
# backup-in-image.sh IMAGE [SCALE] [ROUNDS]: the pgbackrest suite's comparison inside a pgdock
# image, with the image's own PostgreSQL and pgBackRest (the host bench uses the host's: Debian
# bookworm's pgBackRest 2.45). pgbench -i -s SCALE (70 ≈ 1 GB) on a fresh cluster on a named
# volume, stanza created, then ROUNDS × (full backup with the plugin's defaults — lz4,
# process-max = CPUs, start-fast — and pg_basebackup -c fast -X stream, plain) interleaved.
# Prints every sample and the medians. The first round is dropped (WAL of the load still
# being archived). Nothing is left behind: the volume is removed at the end.
set -euo pipefail
image=${1:?usage: backup-in-image.sh IMAGE [SCALE] [ROUNDS]}
scale=${2:-70}
rounds=${3:-4}
vol=pgdock-bench-backup-$$
out=$(mktemp)
cleanup() { docker volume rm -f "$vol" >/dev/null 2>&1 || true; rm -f "$out"; }
trap cleanup EXIT
docker volume create "$vol" >/dev/null
docker run --rm -v "$vol":/w --entrypoint chown "$image" postgres:postgres /w
docker run --rm -u postgres -e SCALE="$scale" -e ROUNDS="$rounds" -v "$vol":/w --entrypoint bash "$image" -c '
set -euo pipefail
B=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
W=/w; mkdir -p $W/repo $W/lock $W/log $W/sock; cd $W
$B/initdb -D data -U postgres -A trust >/dev/null
cat >> data/postgresql.conf <<EOC
port=56999
unix_socket_directories='"'"'$W/sock'"'"'
listen_addresses='"'"''"'"'
archive_mode=on
archive_command='"'"'pgbackrest --config=$W/conf --stanza=b archive-push %p'"'"'
wal_level=replica
max_wal_size=4GB
EOC
cat > conf <<EOC
[global]
repo1-type=posix
repo1-path=$W/repo
repo1-retention-full=9999
start-fast=y
lock-path=$W/lock
log-path=$W/log
log-level-console=warn
log-level-file=off
compress-type=lz4
process-max=$(nproc)
[b]
pg1-path=$W/data
pg1-port=56999
pg1-socket-path=$W/sock
pg1-user=postgres
EOC
$B/pg_ctl -D data -l pg.log -w start >/dev/null
$B/pgbench -i -q -s $SCALE -h $W/sock -p 56999 -U postgres postgres >/dev/null 2>&1
echo "$($B/postgres --version), $(pgbackrest version), scale $SCALE, $(du -sm data/base | cut -f1) MiB in base/, $(nproc) CPUs"
pgbackrest --config=$W/conf --stanza=b stanza-create
now() { date +%s.%N; }
for i in $(seq 0 $ROUNDS); do
  sync; s=$(now); pgbackrest --config=$W/conf --stanza=b --type=full backup; e=$(now)
  [ $i -gt 0 ] && awk -v s=$s -v e=$e "BEGIN{printf \"pgbackrest %.2f\n\", e-s}"
  rm -rf bb; sync; s=$(now); $B/pg_basebackup -D bb -c fast -X stream -h $W/sock -p 56999 -U postgres; e=$(now)
  [ $i -gt 0 ] && awk -v s=$s -v e=$e "BEGIN{printf \"pg_basebackup %.2f\n\", e-s}"
done
$B/pg_ctl -D data -m fast -w stop >/dev/null
' | tee "$out"
for k in pgbackrest pg_basebackup; do
  awk -v k=$k '$1==k {print $2}' "$out" | sort -n | awk -v k=$k '{a[NR]=$1; l=l" "$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "median %s %.2f s (%s )\n", k, m, l}'
done
