# fluxdiff developer tasks. `make test` is the command CI runs.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

GO ?= go
GOTESTFLAGS ?=

.PHONY: all build test testbin vet fmt-check bench bench-smoke run

all: build

build:
	$(GO) build -o bin/fluxdiff ./cmd/fluxdiff

# testbin builds (or finds in ~/.cache) kube-apiserver and etcd for the tests.
testbin:
	@hack/testbin/build.sh

test:
	KUBEBUILDER_ASSETS="$$(hack/testbin/build.sh)" $(GO) test $(GOTESTFLAGS) ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

bench:
	KUBEBUILDER_ASSETS="$$(hack/testbin/build.sh)" $(GO) test -run '^$$' -bench . -benchmem -timeout 60m ./...

# bench-smoke runs every benchmark once (CI): a smoke test, not a timing gate.
bench-smoke:
	KUBEBUILDER_ASSETS="$$(hack/testbin/build.sh)" $(GO) test -run '^$$' -bench . -benchtime=1x -timeout 40m ./...

run:
	$(GO) run ./cmd/fluxdiff serve
