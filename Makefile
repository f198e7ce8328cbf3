# Everyday commands for Sportello. Targets that need PostgreSQL and Redis depend on `services`,
# which starts them if needed and writes their URLs to .data/env; each recipe sources that file
# itself, because make runs every recipe line in a fresh shell.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

GO ?= go
# Extra flags for `go test`, e.g. make test TESTFLAGS='-run TestTickets -v'.
TESTFLAGS ?=
# Extra flags for the Go benchmarks, e.g. make bench-go BENCHFLAGS='-benchtime=5s'.
BENCHFLAGS ?=
# Extra flags for the data generator and the HTTP benchmark, e.g. DATAGENFLAGS='-scale 0.1'
# or RUNFLAGS='-duration 3s -workloads ticket,list'.
DATAGENFLAGS ?=
RUNFLAGS ?=
# Directories written by gqlgen (through graph/generate); CI fails when committed code differs
# from what it generates.
GENERATED := graph/generated graph/model

.PHONY: services browser run test generate check-generated bench bench-go lint stop clean-data

services:
	bash scripts/services.sh

# `dev` migrates, seeds the demo data, prints demo tokens and serves.
run: services
	. .data/env && $(GO) run ./server dev

# Headless Chromium and playwright-core, for the test that drives the operator console.
browser:
	bash scripts/browser-deps.sh

test: services browser
	. .data/env && $(GO) test -count=1 $(TESTFLAGS) ./...

generate:
	$(GO) run ./graph/generate

check-generated: generate
	@changes=$$(git status --porcelain --untracked-files=all -- $(GENERATED)); \
	if [ -n "$$changes" ]; then \
		echo "Generated code is out of date with the schema: run 'make generate' and commit the result." >&2; \
		echo "$$changes" >&2; \
		exit 1; \
	fi

# The benchmark of bench/doc.go: generates the data set once into its own database (reused when
# present), serves it with Sportello, the floor and PostGraphile, drives every workload from a
# separate load generator, runs the fanout, and writes bench/results/.
bench: services
	. .data/env && $(GO) run ./bench/datagen $(DATAGENFLAGS)
	. .data/env && $(GO) run ./bench/run -fanout $(RUNFLAGS)

# The in-process Go benchmarks of bench/ alone, on small fresh databases.
bench-go: services
	. .data/env && $(GO) test -run '^$$' -bench . -benchmem -count=1 $(BENCHFLAGS) ./bench/

# Only tracked files are checked, so scratch files do not fail the build; generated code is left
# to its generator.
lint:
	@unformatted=$$(git ls-files -z -- '*.go' ':(exclude)graph/generated/**' ':(exclude)*_gen.go' | xargs -0 -r gofmt -l); \
	if [ -n "$$unformatted" ]; then \
		echo "These files need gofmt (run: gofmt -w FILE):" >&2; \
		echo "$$unformatted" >&2; \
		exit 1; \
	fi
	$(GO) vet ./...

stop:
	bash scripts/stop-services.sh

# The cluster may live in /tmp behind the .data/pg symlink (see scripts/services.sh), so that
# directory goes too.
clean-data: stop
	if [ -L .data/pg ]; then rm -rf -- "$$(readlink .data/pg)"; fi
	rm -rf .data
