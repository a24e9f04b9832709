# pbftsim - see README.md. `make test` is what CI runs.
GO        ?= go
PKGS      ?= ./...
BENCHTIME ?= 1s
BENCHOUT  ?= bench/latest.txt
BENCHPKGS ?= ./sim/ ./sim/cluster/ ./reports/sweep/
FUZZTIME  ?= 60s
PBFTSIM_PROPERTY_RUNS ?= 5000

.PHONY: all build run test bench soak lint cover fuzz clean

all: build

## build: compile the pbftsim binary into bin/
build:
	$(GO) build -o bin/pbftsim ./cmd/pbftsim

## run: run the built-in default scenario (fault-free, n=4, a handful of payments)
run:
	$(GO) run ./cmd/pbftsim run

## test: vet and race-test every package (what CI runs)
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)

## bench: run the benchmark set; compare with benchstat reports/benchdata/baseline.txt $(BENCHOUT)
bench:
	@mkdir -p $(dir $(BENCHOUT))
	$(GO) test -run='^$$' -bench=. -benchmem -count=6 -timeout=30m $(BENCHPKGS) | tee $(BENCHOUT)
	@echo "compare: benchstat reports/benchdata/baseline.txt $(BENCHOUT)"

## soak: 1,000,000 requests at n=4 with a JSONL trace; reports peak memory (not in CI)
soak:
	PBFTSIM_SOAK=1 $(GO) test -run=TestSoakMemory -v -count=1 -timeout=60m ./sim/cluster/

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

clean:
	rm -rf bin bench coverage.out

## slurm-test: as root, start a throwaway one-node Slurm cluster (installs Debian's
## slurm-wlm and munge if missing), run a sharded sweep as a job array with injected
## shard failures, merge, and compare byte for byte with a local sweep; tears it down
.PHONY: slurm-test
slurm-test:
	GO=$(GO) bash cmd/pbftsim/deploy/slurm/test.sh
