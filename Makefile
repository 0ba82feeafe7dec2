# Two commands: `make dev` serves the API on 127.0.0.1, `make test` runs every
# test. Both install whatever the machine lacks first (scripts/tools.sh).
SHELL := /bin/bash
.DEFAULT_GOAL := dev
SOURCES := $(shell find src -type f) Cargo.toml Cargo.lock catalog/manifest.schema.json

.PHONY: dev test tools build cli unit e2e fuzz bench lint deploy clean

tools:
	@scripts/tools.sh

# worker-build keeps the Wasm name section (~250 KB of symbol names); the
# deployed module does not need it: panics still log their message. The same
# pass runs -Oz to a fixed point (--converge: ~3 KB gzip less, ~30 s more).
WASM_FEATURES := $(addprefix --enable-,mutable-globals sign-ext nontrapping-float-to-int bulk-memory multivalue reference-types exception-handling)
build/index.js: $(SOURCES)
	@source scripts/env.sh && worker-build --release
	@source scripts/env.sh && wasm-opt build/index_bg.wasm -o build/index_bg.wasm -Oz --converge --strip-debug --strip-producers $(WASM_FEATURES)
	@touch $@

# The web console and the connect page (console/, served as static assets):
# bundled by esbuild into console/dist, which wrangler.toml's [assets] serves.
CONSOLE_SOURCES := $(shell find console/src -type f) console/build.sh package-lock.json
console/dist/index.html: $(CONSOLE_SOURCES)
	@console/build.sh

# The command-line client `connector` (cli/, native, release; never in the
# Wasm): target/release/connector.
CLI := target/release/connector
$(CLI): $(shell find cli -type f) Cargo.toml Cargo.lock
	@source scripts/env.sh && cargo build --release -p connector-cli
	@touch $@

cli: tools $(CLI)

build: tools build/index.js console/dist/index.html $(CLI)

dev: build
	@scripts/serve.sh

unit: tools
	cargo test --lib
	cargo test -p connector-cli
	@scripts/check-openapi.sh
	@source scripts/env.sh && node --test console/test/*.test.mjs

# End-to-end against the built worker under `wrangler dev`; each test binary
# starts its own wrangler on a free port with a fresh state folder, and its
# own PostgreSQL and MariaDB (scripts/db-servers.sh installs them).
e2e: build
	@scripts/browser-tools.sh
	@scripts/mcp-clients.sh
	@scripts/webhook-tools.sh
	@scripts/db-servers.sh
	@scripts/langgraph-tools.sh
	@scripts/aws-tools.sh
	@source scripts/env.sh && CONNECTOR_CLI_BIN=$(CURDIR)/$(CLI) cargo test --test e2e -- --ignored --test-threads=1

# Property-based run of src/openapi.json (schemathesis) against its own
# wrangler dev: every answer must match the document, no 5xx, errors in the
# API §2 envelope (scripts/fuzz.sh).
fuzz: build
	@scripts/fuzz.sh

test: build unit e2e fuzz

lint: tools
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p connector-cli --all-targets -- -D warnings
	cargo clippy --lib --target wasm32-unknown-unknown -- -D warnings

bench: build
	@bench/run.sh

deploy: build
	@source scripts/env.sh && wrangler d1 migrations apply DB --remote && wrangler deploy

clean:
	rm -rf build target .state .wrangler
