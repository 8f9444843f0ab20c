# clusterctl: `make demo` runs the main job, `make test` runs every test.
GO       ?= go
BIN      := bin/clusterctl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# Packages the tests and the demo need; scripts/deps.sh installs the missing ones. cloud-init is
# there for its schema check and user-data parser (the EC2 user data tests); deps.sh keeps it from
# running at this machine's own boot.
APT_PACKAGES := openssh-server openssh-client sudo iproute2 debootstrap cloud-init
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@2026.2.2

.PHONY: all build deps test lint bench demo docs clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/clusterctl

deps:
	@scripts/deps.sh $(APT_PACKAGES)

test: deps
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 25m ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

bench: deps
	$(GO) test -run '^$$' -bench . -benchtime 1x -count 1 ./...

# The main job on the embedded default: a 3-node Grid Engine cluster of local containers
# (examples/local.ini; needs root), then qhost from its master. Running it again resumes the
# same cluster instead of starting a second one.
DEMO_CONFIG := examples/local.ini
demo: deps build
	@if $(BIN) --config $(DEMO_CONFIG) listclusters demo >/dev/null 2>&1; then \
		$(BIN) --config $(DEMO_CONFIG) start -x demo; \
	else \
		$(BIN) --config $(DEMO_CONFIG) start -c localcluster demo; \
	fi
	$(BIN) --config $(DEMO_CONFIG) sshmaster demo qhost
	@echo
	@echo "Log in:      $(BIN) sshmaster demo"
	@echo "Run a job:   $(BIN) sshmaster demo \"sudo -iu clusteruser qsub -b y -sync y hostname\""
	@echo "Remove it:   $(BIN) terminate -y demo"

# Regenerates the README's config reference and command list from the code.
docs:
	$(GO) test ./cmd/clusterctl -run TestREADME -update

clean:
	rm -rf bin
