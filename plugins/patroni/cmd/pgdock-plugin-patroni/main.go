// Command pgdock-plugin-patroni is pgdock's Patroni mode provider. It is
// started by pgdock-entrypoint when PATRONI_ENABLE=true.
package main

import "github.com/pgdock/pgdock/plugins/patroni"

func main() { patroni.Main() }
