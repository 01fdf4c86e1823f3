#!/bin/bash
# testrig: executable .sh, run as a program
set -euo pipefail
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -c "insert into rig_init(kind) values ('sh-exec')"
