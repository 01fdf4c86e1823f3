// Package args classifies the container's arguments the way the official
// postgres image's docker-entrypoint.sh does: flags go to postgres, help and
// version requests run postgres directly, any other command runs unchanged.
package args
