# clusterctl: `make demo` runs the main job, `make test` runs every test.
GO       ?= go
BIN      := bin/clusterctl
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# Packages the tests and the demo need; scripts/deps.sh installs the missing ones.
APT_PACKAGES := openssh-server openssh-client sudo iproute2
STATICCHECK  := honnef.co/go/tools/cmd/staticcheck@2026.2.2
DEMO_DIR     := .demo

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

# The main job on the embedded default. Until the local provider lands this writes a config
# template, validates it and shows the resolved template, all under $(DEMO_DIR).
demo: build
	$(BIN) --config $(DEMO_DIR)/config config init --force
	$(BIN) --config $(DEMO_DIR)/config config validate
	$(BIN) --config $(DEMO_DIR)/config config show -c smallcluster

# Regenerates the README's config reference and command list from the code.
docs:
	$(GO) test ./cmd/clusterctl -run TestREADME -update

clean:
	rm -rf bin $(DEMO_DIR)
