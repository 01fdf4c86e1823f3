#!/bin/sh
# Compatibility with the official postgres image: initialise PGDATA if needed
# and exit without leaving a server running (Kubernetes init containers).
# Invoked as docker-enforce-initdb.sh it fails when PGDATA is already
# initialised (CI use); any other name is an error, as upstream (exit 99).
case "$(basename "$0")" in
  docker-ensure-initdb.sh) exec /usr/local/bin/pgdock-entrypoint init -- "$@" ;;
  docker-enforce-initdb.sh) exec /usr/local/bin/pgdock-entrypoint init --enforce -- "$@" ;;
  *) echo >&2 "unknown invocation name: $0"; exit 99 ;;
esac
