# clusterctl: `make demo` runs the main job, `make test` runs every test.
GO       ?= go
BIN      := bin/clusterctl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# Debian/Ubuntu packages the tests and the demo need; scripts/deps.sh installs the missing ones
# (a dpkg-query check first, so a second run does not call apt). What each is for:
#   systemd-container, debootstrap, iproute2: local clusters (nspawn containers, their image,
#     bridges) and the root the EC2 user data boots in; openssh-server, openssh-client, sudo:
#     the SSH tests against a real sshd and the system ssh client; tmux: the tmux plugin's test;
#     python3-yaml: parsing the EC2 cloud-config as cloud-init does; cloud-init: its schema check
#     and user-data parser for the EC2 user data (deps.sh keeps it from running at this
#     machine's own boot); python3-ipyparallel, python3-pexpect: the IPython client that the
#     ipcluster plugin's printed hint is tested with, through an SSH tunnel; python3-argon2:
#     checking the notebook password hash with the library Jupyter's notebook verifies it with.
APT_PACKAGES := systemd-container debootstrap iproute2 openssh-server openssh-client sudo tmux python3-yaml cloud-init python3-ipyparallel python3-pexpect python3-argon2
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: all build deps test-deps test test-faults lint bench bench-scale demo docs clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/clusterctl

deps:
	@scripts/deps.sh $(APT_PACKAGES)

# The tests also need moto's EC2 server (not a distribution package: checked, not installed).
test-deps:
	@scripts/deps.sh --moto $(APT_PACKAGES)

# Every test, through tools/testreport: one line per package, the output of failures, the reason
# of every skip, and a last line `N passed, N failed, N skipped`. A skip fails the run unless
# .ci/allowed-skips lists it with a reason. The raw `go test -json` stream is kept in TEST_LOG.
TEST_LOG ?= bin/test-events.json
test: test-deps
	$(GO) vet ./...
	@mkdir -p $(dir $(TEST_LOG))
	$(GO) run ./tools/testreport -allowed .ci/allowed-skips -json-log $(TEST_LOG) -- \
		$(GO) test -json -count=1 -timeout 40m ./...

# The fault suite alone (make test runs it too, beside the other packages).
test-faults: test-deps
	@mkdir -p $(dir $(TEST_LOG))
	$(GO) run ./tools/testreport -allowed .ci/allowed-skips -json-log $(TEST_LOG) -- \
		$(GO) test -json -count=1 -timeout 40m ./internal/faults

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: test-deps
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./...

# The scale figures in one run (README: Performance): start with full setup of 1 to 1000
# simulated nodes, addnode and removenode, one balancer iteration at 1000 hosts, the EC2 calls
# of a 1000-node start against moto, listclusters and sshmaster on 1000 instances. The go test
# output goes to $(SCALE_LOG); the table, whose last line sums it up, is printed last.
SCALE_LOG    ?= bin/bench-scale.log
SCALE_REPORT ?= bin/bench-scale.txt
bench-scale: test-deps
	@mkdir -p $(dir $(SCALE_LOG))
	@SCALE_REPORT=$(abspath $(SCALE_REPORT)) $(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -count 1 \
		-timeout 60m ./cmd/clusterctl > $(SCALE_LOG) 2>&1 || { tail -50 $(SCALE_LOG); exit 1; }
	@cat $(SCALE_REPORT)

# The main job on the embedded default: a 3-node Grid Engine cluster of local containers
# (examples/local.ini; needs root), then qhost from its master; `make demo SCHEDULER=slurm`
# makes it a Slurm cluster and runs sinfo. Running it again resumes the same cluster instead of
# starting a second one (with the scheduler it was started with).
DEMO_CONFIG := examples/local.ini
SCHEDULER   ?= sge
DEMO_TEMPLATE_sge   := localcluster
DEMO_HOSTS_sge      := qhost
DEMO_JOB_sge        := qsub -b y -sync y hostname
DEMO_TEMPLATE_slurm := localslurm
DEMO_HOSTS_slurm    := sinfo -N -l
DEMO_JOB_slurm      := srun -N 3 hostname
demo: deps build
	@if [ -z "$(DEMO_TEMPLATE_$(SCHEDULER))" ]; then echo "SCHEDULER must be sge or slurm"; exit 2; fi
	@if $(BIN) --config $(DEMO_CONFIG) listclusters demo >/dev/null 2>&1; then \
		$(BIN) --config $(DEMO_CONFIG) start -x demo; \
	else \
		$(BIN) --config $(DEMO_CONFIG) start -c $(DEMO_TEMPLATE_$(SCHEDULER)) demo; \
	fi
	$(BIN) --config $(DEMO_CONFIG) sshmaster demo $(DEMO_HOSTS_$(SCHEDULER))
	@echo
	@echo "Log in:      $(BIN) sshmaster demo"
	@echo "Run a job:   $(BIN) sshmaster demo \"sudo -iu clusteruser $(DEMO_JOB_$(SCHEDULER))\""
	@echo "Remove it:   $(BIN) terminate -y demo"

# Regenerates the README's config reference and command list from the code.
docs:
	$(GO) test ./cmd/clusterctl -run TestREADME -update

clean:
	rm -rf bin
