# costgate — build, demo and test. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/costgate
GOBIN ?= $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION ?= v0.8.2
# Packages whose tests run with -race (kept to those where it fits CI time:
# the collector's parallel decoders are in, and cmd/costgate, whose serve
# shares one price estimator between requests; the store's model test is
# too slow).
RACE_PKGS ?= ./gate/... ./webhooks/... ./collector/... ./cmd/costgate/
# TAGS: Go build tags. isal (cgo with Debian's libisal-dev) makes collect
# inflate gzip with Intel's ISA-L, about 3 times faster than pure Go; it
# is on when the library's header is installed (.ci/run installs it).
# TAGS= builds pure Go.
TAGS ?= $(shell test -f /usr/include/isa-l/igzip_lib.h && [ "$$($(GO) env CGO_ENABLED)" = 1 ] && echo isal)
GOTAGS := $(if $(TAGS),-tags $(TAGS))

.PHONY: help build demo test fmt-check vet staticcheck unit race fuzz bench e2e clean tools

help:
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/costgate (with ISA-L when libisal-dev is installed; see TAGS)
	$(GO) build $(GOTAGS) -o $(BIN) ./cmd/costgate

demo: build ## check the bundled sample plans with the default policies
	@./scripts/demo.sh

test: fmt-check vet staticcheck unit race ## everything CI runs

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^bench/') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt: these files need formatting:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(GOTAGS) ./...
	$(if $(TAGS),$(GO) vet ./collector/tabular/)

$(STATICCHECK):
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

staticcheck: $(STATICCHECK)
	$(STATICCHECK) $(GOTAGS) ./...

# unit starts a throwaway PostgreSQL on a loopback port for the decision
# log's tests (scripts/ci-postgres.sh installs Debian's postgresql if needed).
unit:
	@eval "$$(scripts/ci-postgres.sh)"; trap 'scripts/ci-postgres.sh stop' EXIT; \
	$(GO) test $(GOTAGS) -count=1 ./...
	$(if $(TAGS),$(GO) test -count=1 ./collector/tabular/ ./collector/focus/)

race:
	$(GO) test $(GOTAGS) -count=1 -race $(RACE_PKGS)

FUZZTIME ?= 60s
fuzz: ## run every fuzz test for FUZZTIME each
	$(GO) test ./gate -run '^$$' -fuzz FuzzParsePlan -fuzztime $(FUZZTIME)
	$(GO) test ./store -run '^$$' -fuzz FuzzSegmentDecode -fuzztime $(FUZZTIME) -fuzzminimizetime 3s
	$(GO) test ./collector/tabular -run '^$$' -fuzz FuzzCSV -fuzztime $(FUZZTIME)
	$(GO) test ./collector/tabular -run '^$$' -fuzz FuzzParseNanos -fuzztime $(FUZZTIME)
	$(GO) test ./webhooks -run '^$$' -fuzz FuzzParseQuantity -fuzztime $(FUZZTIME)

bench: ## Go benchmarks of the gate, the store and the report
	$(GO) test ./gate -run '^$$' -bench . -benchmem
	$(GO) test ./store -run '^$$' -bench 'Query|Build' -benchmem
	$(GO) test ./reports -run '^$$' -bench CompanyReport10M -benchtime 5x

e2e: ## slow end-to-end tests with tools built from source (not in CI)
	@./scripts/e2e.sh

clean:
	rm -rf bin
