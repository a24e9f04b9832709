# pbftsim - see README.md. `make test` is what CI runs.
GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1s
BENCHOUT  ?= bench/latest.txt
BENCHPKGS ?= ./sim/ ./sim/cluster/ ./reports/sweep/
# The profile-guided optimisation profile of the pbftsim command (go build and
# go run use cmd/pbftsim/default.pgo by themselves); benchmarks are built with it too.
PGO       ?= $(CURDIR)/cmd/pbftsim/default.pgo
FUZZTIME  ?= 60s
PBFTSIM_PROPERTY_RUNS ?= 5000
# Mutation testing (make mutation): gremlins, installed through the module proxy into bin/.
GREMLINS         ?= github.com/go-gremlins/gremlins/cmd/gremlins@v0.5.0
MUTATION_PKG     ?= sim/pbft
MUTATION_WORKERS ?= 2
MUTATION_TIMEOUT ?= 4h
MUTATION_ENGINE  ?= schemata
# Extra flags of internal/mutschema, e.g. MUTATION_FLAGS='-short -shuffle' for properties/ (its full tests take
# about a minute a mutant; -shuffle makes a run cut by MUTATION_TIMEOUT a fair sample).
MUTATION_FLAGS   ?=

.PHONY: all build install run test bench pgo soak cross-determinism lint cover fuzz mutation clean

all: build

## build: compile the pbftsim binary into bin/
build:
	$(GO) build -o bin/pbftsim ./cmd/pbftsim

## install: install pbftsim into $(go env GOBIN) or $(go env GOPATH)/bin, so that `pbftsim ...` works
install:
	$(GO) install ./cmd/pbftsim
	@bin=$$($(GO) env GOBIN); [ -n "$$bin" ] || bin=$$($(GO) env GOPATH)/bin; \
	echo "installed $$bin/pbftsim"; \
	case ":$$PATH:" in *":$$bin:"*) ;; *) echo "add it to your PATH: export PATH=\"$$bin:\$$PATH\"";; esac

## run: run the built-in default scenario (fault-free, n=4, a handful of payments)
run:
	$(GO) run ./cmd/pbftsim run

## test: vet and race-test every package (what CI runs; -short skips the long searches, which the race
## detector slows about tenfold), then the properties package in full without -race, then the PBFT
## packages with the replica invariant assertions and the kernel's message-immutability checks on
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -short -count=1 -timeout=20m $(PKGS)
	$(GO) test -count=1 -timeout=20m ./properties/
	$(GO) test -tags invariants -count=1 ./sim/ ./sim/pbft/ ./sim/cluster/

## bench: run the benchmark set; compare with benchstat reports/benchdata/baseline.txt $(BENCHOUT)
bench:
	@mkdir -p $(dir $(BENCHOUT))
	$(GO) test -pgo=$(PGO) -run='^$$' -bench=. -benchmem -count=6 -timeout=30m $(BENCHPKGS) | tee $(BENCHOUT)
	$(GO) test -pgo=$(PGO) -run='^$$' -bench='RunChecked|CheckerRecords' -benchmem -count=6 -timeout=30m ./properties/ | tee -a $(BENCHOUT)
	$(GO) test -pgo=$(PGO) -run='^$$' -bench='Explore/n=4/(drops|dpor|slice)' -benchmem -count=6 -timeout=30m ./properties/explore/ | tee -a $(BENCHOUT)
	@echo "compare: benchstat reports/benchdata/baseline.txt $(BENCHOUT)"

## pgo: regenerate cmd/pbftsim/default.pgo from CPU profiles of the PBFT and sweep benchmarks
pgo:
	@mkdir -p bench
	$(GO) test -pgo=off -run='^$$' -bench='PBFT/n=(4|4-batch=16|16|100)$$' -benchtime=3s -cpuprofile=bench/pgo-pbft.out -o bench/cluster.test ./sim/cluster/
	$(GO) test -pgo=off -run='^$$' -bench=RunSeed -benchtime=6s -cpuprofile=bench/pgo-sweep.out -o bench/sweep.test ./reports/sweep/
	$(GO) tool pprof -proto bench/pgo-pbft.out bench/pgo-sweep.out > cmd/pbftsim/default.pgo

## soak: 1,000,000 and 10,000,000 requests at n=4 with every online checker and a .pbt.zst trace,
## each in its own process; reports peak resident memory and speed (not in CI)
soak:
	PBFTSIM_SOAK=1 PBFTSIM_SOAK_REQUESTS=1000000 $(GO) test -run=TestSoakChecked -v -count=1 -timeout=60m ./properties/
	PBFTSIM_SOAK=1 PBFTSIM_SOAK_REQUESTS=10000000 $(GO) test -run=TestSoakChecked -v -count=1 -timeout=120m ./properties/

## cross-determinism: the golden trace hashes of every built-in scenario on arm64, s390x (big-endian),
## ppc64le and riscv64 under qemu-user (installs Debian's qemu-user as root if missing)
cross-determinism:
	@command -v qemu-aarch64 >/dev/null || { apt-get update -qq && apt-get install -y -qq qemu-user; }
	@mkdir -p bin
	@for a in arm64 s390x ppc64le riscv64; do \
	  q=$$a; [ $$a = arm64 ] && q=aarch64; \
	  (cd cmd/pbftsim && CGO_ENABLED=0 GOARCH=$$a $(GO) test -c -o ../../bin/golden-$$a.test .) || exit 1; \
	  (cd cmd/pbftsim && qemu-$$q ../../bin/golden-$$a.test -test.run '^TestTraceHashesGolden$$' -test.count=1 -test.v) || exit 1; \
	done

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## cover: test coverage summary (coverage.out)
cover:
	$(GO) test -count=1 -coverprofile=coverage.out $(PKGS)
	$(GO) tool cover -func=coverage.out | tail -n 1

## fuzz: long property runs and native fuzzing (not part of CI)
fuzz:
	PBFTSIM_PROPERTY_RUNS=$(PBFTSIM_PROPERTY_RUNS) $(GO) test -count=1 -timeout=60m ./properties/...
	$(GO) test -run='^$$' -fuzz=FuzzScenario -fuzztime=$(FUZZTIME) ./properties/

## mutation: mutation testing of $(MUTATION_PKG) with the package's own tests: gremlins (installed through
## the module proxy into bin/) finds the mutants and their coverage (--dry-run), internal/mutschema builds
## the test binary once with every mutant behind a switch and runs it per mutant, internal/mutreport prints
## killed / lived / not covered, the test efficacy and every lived mutant, marked when
## $(MUTATION_PKG)/testdata/equivalent-mutants.md lists it. About 15 minutes on 2 busy cores; not in CI.
## MUTATION_ENGINE=gremlins has gremlins build and test each mutant itself instead (hours).
mutation: SHELL := /bin/bash
mutation: .SHELLFLAGS := -o pipefail -c
mutation:
	GOBIN=$(CURDIR)/bin $(GO) install $(GREMLINS)
	@mkdir -p bench && rm -f bench/mutation.json
	@if [ "$(MUTATION_ENGINE)" = gremlins ]; then \
	  timeout $(MUTATION_TIMEOUT) bin/gremlins unleash ./$(MUTATION_PKG) --workers $(MUTATION_WORKERS) --timeout-coefficient 10 \
	    -o bench/mutation.json 2>&1 | tee bench/mutation.log; \
	else \
	  bin/gremlins unleash ./$(MUTATION_PKG) --dry-run -o bench/mutation-dry.json > bench/mutation-dry.log 2>&1 && tail -n 3 bench/mutation-dry.log && \
	  timeout $(MUTATION_TIMEOUT) $(GO) run ./internal/mutschema -dry bench/mutation-dry.json -pkg $(MUTATION_PKG) \
	    -workers $(MUTATION_WORKERS) $(MUTATION_FLAGS) -o bench/mutation.json 2>&1 | tee bench/mutation.log; \
	fi
	$(GO) run ./internal/mutreport -json bench/mutation.json -dir $(MUTATION_PKG) \
	  -equivalent $(MUTATION_PKG)/testdata/equivalent-mutants.md | tee bench/mutation.txt

clean:
	rm -rf bin bench coverage.out

## slurm-test: as root, start a throwaway one-node Slurm cluster (installs Debian's
## slurm-wlm and munge if missing), run a sharded sweep as a job array with injected
## shard failures, merge, and compare byte for byte with a local sweep; tears it down
.PHONY: slurm-test
slurm-test:
	GO=$(GO) bash cmd/pbftsim/deploy/slurm/test.sh
