// Package pgbin finds PostgreSQL's bin directory for a plugin, as the
// entrypoint does for itself: the directory of the postgres on PATH, else the
// newest Debian-style <root>/lib/postgresql/<major>/bin. Plugins run the
// server's own programs from there (patroni, psql).
package pgbin
