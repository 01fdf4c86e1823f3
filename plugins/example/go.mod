module github.com/pgdock/pgdock/plugins/example

go 1.26.8

require (
	github.com/hashicorp/go-hclog v1.6.3
	github.com/pgdock/pgdock/plugins/sdk v0.0.0-00010101000000-000000000000
	github.com/stretchr/testify v1.12.1
)
