# pgdock — the README's commands. `make up` runs the main job, `make test` the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := build

GO        ?= go
BIN       := $(CURDIR)/bin
RUN       := $(CURDIR)/.run
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# grpcnotrace drops grpc's golang.org/x/net/trace (and html/template with it): smaller
# binaries and ~0.45 MiB less idle RSS for the entrypoint; pgdock never enables grpc tracing.
BUILDTAGS ?= grpcnotrace
MODULES   := entrypoint healthcheck plugins/sdk plugins/example plugins/patroni plugins/pgbackrest plugins/citus plugins/pgstatmonitor plugins/bundle testrig bench
PLUGINS   := example patroni pgbackrest
UP_PORT   ?= 55432
TESTRIG_OUT ?= $(CURDIR)/.testrig
# PostgreSQL major of `make image` (13, 15, 17, 18; docs/images.md); PG_MAJORS: the majors
# `make testrig` builds and runs the direct-mode scenarios on (e.g. PG_MAJORS="13 15 17 18";
# empty: once, on pgdock/postgres:$(PG_MAJOR))
PG_MAJOR  ?= 15
PG_MAJORS ?=
# pgdock's own time goals are reported by make test/testrig (speed lives in make bench);
# TESTRIG_GOALS=enforce makes a missed goal fail. The plan's 30 s budgets always fail.
TESTRIG_GOALS ?= report
export CGO_ENABLED := 0

.PHONY: bench-backup-image deps build test test-unit lint vet fmt bench up down status cover generate clean image image-upgrade testrig dashboards

## deps: install host packages (PostgreSQL 15, Patroni, etcd, pgBackRest, …), idempotently
deps:
	@./scripts/deps.sh

## build: every binary into bin/ (plugins into bin/plugins with their SHA256SUMS)
build:
	@mkdir -p $(BIN)/plugins
	cd entrypoint && $(GO) build -tags '$(BUILDTAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/pgdock-entrypoint ./cmd/pgdock-entrypoint
	cd healthcheck && $(GO) build -tags '$(BUILDTAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/pgdock-healthcheck ./cmd/pgdock-healthcheck
	@for p in $(PLUGINS); do \
	  (cd plugins/$$p && $(GO) build -tags '$(BUILDTAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/plugins/pgdock-plugin-$$p ./cmd/pgdock-plugin-$$p) || exit 1; \
	done
	cd $(BIN)/plugins && sha256sum pgdock-plugin-* > SHA256SUMS && chmod go-w . pgdock-plugin-* SHA256SUMS
	cd plugins/bundle && $(GO) build -tags '$(BUILDTAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/pgdock-plugins ./cmd/pgdock-plugins

## lint: gofmt and go vet in every module
lint: fmt vet
fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
vet:
	$(GO) vet $(addsuffix /...,$(addprefix ./,$(MODULES)))

## test: every test tier that applies on this machine (installs deps first)
test: deps lint
	@# the host integration tests read real PostgreSQL 13 and 18 clusters from these images (cached when built)
	@$(MAKE) --no-print-directory image PG_MAJOR=13 IMAGES=postgres
	@$(MAKE) --no-print-directory image PG_MAJOR=18 IMAGES=postgres
	PGDOCK_TEST_REQUIRE=1 $(GO) test -count=1 -timeout 20m $(addsuffix /...,$(addprefix ./,$(MODULES)))
	@$(MAKE) --no-print-directory testrig
	PGDOCK_TEST_REQUIRE=1 ./scripts/up_test.sh $(BIN)

## test-unit: unit tests only (no PostgreSQL needed)
test-unit:
	$(GO) test -short -count=1 $(addsuffix /...,$(addprefix ./,$(MODULES)))

## cover: statement coverage per module, integration tier included
cover: deps
	@./scripts/cover.sh $(MODULES)

## bench: benchmarks side by side with bare PostgreSQL; table on stdout, JSON in .bench/
bench: deps build
	@mkdir -p .bench
	cd bench && $(GO) run ./cmd/pgdock-bench -bin $(BIN) -out $(CURDIR)/.bench/results.json

## bench-backup-image: the pgbackrest suite's full-backup comparison inside pgdock/postgres:$(PG_MAJOR)
## with that image's PostgreSQL and pgBackRest (BACKUP_SCALE=70 ≈ 1 GB, BACKUP_ROUNDS=4; docs/performance.md)
bench-backup-image:
	@./bench/scripts/backup-in-image.sh pgdock/postgres:$(PG_MAJOR) $(or $(BACKUP_SCALE),70) $(or $(BACKUP_ROUNDS),4)

## generate: regenerate protobuf code (pinned generator versions)
generate: deps
	./plugins/sdk/generate.sh

## image: container images pgdock/postgres:$(PG_MAJOR), pgdock/etcd, pgdock/prometheus, pgdock/postgres-exporter
## (offline base from debootstrap when no registry answers; IMAGES="postgres" builds a subset;
## PG_MAJOR=13|15|17|18, default 15; CITUS_VERSION=13.0 / PG_STAT_MONITOR=true add those from their vendors' repositories)
image: build
	@PG_MAJOR=$(PG_MAJOR) ./scripts/image.sh $(BIN) $(IMAGES)

## image-upgrade: pgdock/postgres-upgrade:$(FROM)-to-$(TO), pgdock/postgres:$(TO) with PostgreSQL $(FROM)'s
## programs for PGDOCK_UPGRADE=true (docs/upgrades.md); FROM=13 TO=15 by default, both images built when missing
image-upgrade: build
	@./scripts/image-upgrade.sh $(BIN) $(or $(FROM),13) $(or $(TO),15)

## testrig: the container scenarios (docs/testrig.md) on the images of `make image`;
## JUnit and a Markdown report with SVG timelines in .testrig/ (SCENARIOS="direct sleep" runs a subset)
## PG_MAJORS="13 15 17 18": the direct-mode scenarios once per major, images built first
testrig: image
	@for m in $(PG_MAJORS); do [ "$$m" = "$(PG_MAJOR)" ] || PG_MAJOR=$$m ./scripts/image.sh $(BIN) postgres || exit 1; done
	@mkdir -p $(TESTRIG_OUT)
	cd testrig && $(GO) build -tags '$(BUILDTAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/testrig ./cmd/testrig
	$(BIN)/testrig run --goals $(TESTRIG_GOALS) --root $(CURDIR) --junit $(TESTRIG_OUT)/junit.xml --report $(TESTRIG_OUT)/report.md $(if $(strip $(PG_MAJORS)),--pg "$(strip $(PG_MAJORS))") $(SCENARIOS)

## dashboards: regenerate the Grafana dashboard JSON (Go, grafana-foundation-sdk) in compose/monitoring
dashboards:
	cd testrig && $(GO) run ./cmd/pgdock-dashboards -root $(CURDIR)

## up: the monitoring compose stack (PostgreSQL, postgres_exporter, Prometheus; Grafana when its
## image exists), images built when missing; without a Docker Engine (or UP_MODE=host) on this host
up: deps build
	@./scripts/up.sh $(RUN) $(BIN) $(UP_PORT) $(UP_MODE)

## down: remove what `make up` started (PURGE=1: the containers' data volume too)
down:
	@./scripts/down.sh $(RUN) $(if $(PURGE),purge)

## status: health of what `make up` started; non-zero unless healthy
status:
	@./scripts/status.sh $(RUN) $(BIN)

clean:
	rm -rf $(BIN) .bench .testrig
