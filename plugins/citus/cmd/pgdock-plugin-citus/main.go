// Command pgdock-plugin-citus is pgdock's citus plugin, started by
// pgdock-entrypoint; run by hand it only says so.
package main

import "github.com/pgdock/pgdock/plugins/citus"

func main() { citus.Main() }
