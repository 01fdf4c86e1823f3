// Command pgdock-plugin-example is pgdock's example plugin. It is started by
// pgdock-entrypoint when EXAMPLE_ENABLE=true; run by hand it only says so.
package main

import "github.com/pgdock/pgdock/plugins/example"

func main() { example.Main() }
