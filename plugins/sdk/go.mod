module github.com/pgdock/pgdock/plugins/sdk

go 1.26.8
