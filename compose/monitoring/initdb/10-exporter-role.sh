#!/bin/sh
# First boot only: the role postgres_exporter logs in with. pg_monitor gives
# it read access to every statistics view and nothing else. The password comes
# from the environment (EXPORTER_PASSWORD) and reaches the server
# through psql's \getenv, never on a command line.
set -eu
if [ -z "${EXPORTER_PASSWORD:-}" ]; then
  echo "10-exporter-role.sh: EXPORTER_PASSWORD is empty" >&2
  exit 1
fi
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
\getenv exporter_password EXPORTER_PASSWORD
CREATE ROLE postgres_exporter LOGIN PASSWORD :'exporter_password';
GRANT pg_monitor TO postgres_exporter;
SQL
