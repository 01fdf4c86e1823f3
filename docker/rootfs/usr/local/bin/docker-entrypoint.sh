#!/bin/sh
# Compatibility with the official postgres image: tools that call
# /usr/local/bin/docker-entrypoint.sh (testcontainers, wrappers) get pgdock.
exec /usr/local/bin/pgdock-entrypoint "$@"
