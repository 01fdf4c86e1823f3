# pgdock: helper functions for sourced (non-executable) init scripts, with the
# names and behaviour of the official postgres image's docker-entrypoint.sh.

# usage: file_env VAR [DEFAULT]
#    ie: file_env 'XYZ_DB_PASSWORD' 'example'
# (allows "$XYZ_DB_PASSWORD_FILE" to fill in the value of "$XYZ_DB_PASSWORD")
file_env() {
	local var="$1"
	local fileVar="${var}_FILE"
	local def="${2:-}"
	if [ "${!var:-}" ] && [ "${!fileVar:-}" ]; then
		printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$fileVar"
		exit 1
	fi
	local val="$def"
	if [ "${!var:-}" ]; then
		val="${!var}"
	elif [ "${!fileVar:-}" ]; then
		val="$(< "${!fileVar}")"
	fi
	export "$var"="$val"
	unset "$fileVar"
}

# Runs psql against the temporary server, like the official helper, but keeps
# PGHOST: pgdock's temporary server listens on a private socket directory.
# usage: docker_process_sql [psql-cli-args]
#    ie: docker_process_sql --dbname=mydb <<<'INSERT ...'
#    ie: docker_process_sql -f my-file.sql
#    ie: docker_process_sql <my-file.sql
docker_process_sql() {
	local query_runner=( psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc )
	if [ -n "$POSTGRES_DB" ]; then
		query_runner+=( --dbname "$POSTGRES_DB" )
	fi
	"${query_runner[@]}" "$@"
}

# Legacy array some scripts still use: "${psql[@]}" -c '...'
psql=( docker_process_sql )

# The server is already running while init scripts run; these exist so that
# scripts calling them keep working.
docker_temp_server_start() { :; }
docker_temp_server_stop() { :; }
