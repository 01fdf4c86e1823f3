// Package psql runs SQL on a PostgreSQL server with the server's own psql
// instead of a Go driver, which keeps pgx (some 4 MB) out of the plugin
// bundle. A Target names the server (a socket directory or a host, with an
// optional password that only ever reaches a 0600 passfile); Exec, Query
// and the helpers build psql's environment from scratch, send the SQL on
// stdin with values as psql variables (:'name' literals, :"name"
// identifiers, quoted by psql), read rows in COPY's text format (NULL told
// apart from the empty string) and end psql when the context does.
package psql
