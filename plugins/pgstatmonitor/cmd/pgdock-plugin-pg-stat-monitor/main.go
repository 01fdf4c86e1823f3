// Command pgdock-plugin-pg-stat-monitor is pgdock's pg-stat-monitor plugin, started by
// pgdock-entrypoint; run by hand it only says so.
package main

import "github.com/pgdock/pgdock/plugins/pgstatmonitor"

func main() { pgstatmonitor.Main() }
