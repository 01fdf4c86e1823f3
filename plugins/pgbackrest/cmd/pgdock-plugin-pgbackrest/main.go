// Command pgdock-plugin-pgbackrest is pgdock's pgbackrest plugin, started by
// pgdock-entrypoint; run by hand it only says so.
package main

import "github.com/pgdock/pgdock/plugins/pgbackrest"

func main() { pgbackrest.Main() }
