module github.com/pgdock/pgdock/bench

go 1.26.8
