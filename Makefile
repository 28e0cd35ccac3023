SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

BIN := node_modules/.bin
TSX := $(BIN)/tsx
# The node flags the services run with (scripts/node-flags; NODE_FLAGS= for none): see
# docs/deployment.md, "Node flags".
NODE_FLAGS ?= $(shell cat scripts/node-flags)
SERVICE := $(TSX) $(NODE_FLAGS)
BUF := $(BIN)/buf

.PHONY: help install generate config-docs check-generated lint format breaking test test-contract up processor router router-cluster dispatcher api-key store bench bench-smoke bench-net clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

node_modules/.installed: package.json package-lock.json $(wildcard patches/*.patch) cli/package.json net-guard/package.json proto/package.json reference-processor/package.json router/package.json service-kit/package.json testkit/package.json
	npm ci --no-audit --no-fund
	touch $@

install: node_modules/.installed ## install npm dependencies (npm ci)

generate: install ## compile the contract: TypeScript types and descriptor sets
	$(BUF) generate
	$(BUF) build --as-file-descriptor-set -o proto/gen/artorizer.binpb
	$(BUF) build node_modules/grpc-health-check/proto --as-file-descriptor-set -o proto/gen/health.binpb

config-docs: install ## write the settings tables of docs/configuration.md from the declarations (router/src/config/, reference-processor/src/config/, service-kit)
	$(TSX) scripts/config-docs/main.ts

check-generated: generate config-docs ## fail when committed generated code or docs are stale
	@git diff --exit-code --stat -- proto/gen || { echo "proto/gen is stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard proto/gen)" || { echo "proto/gen has uncommitted files: run 'make generate' and commit"; exit 1; }
	@git diff --exit-code --stat -- docs/configuration.md || { echo "docs/configuration.md is stale: run 'make config-docs' and commit"; exit 1; }

lint: install ## buf lint + format checks (buf, prettier), tsc strict (the page's modules too), eslint
	$(BUF) lint
	$(BUF) format --diff --exit-code
	$(BIN)/prettier --check '**/*.{ts,js,cjs,mjs}'
	$(BIN)/tsc -p tsconfig.json --noEmit
	$(BIN)/tsc -p router/public/tsconfig.json
	$(BIN)/eslint .

breaking: install ## buf breaking against main (or the previous main commit when on main)
	@scripts/buf-breaking.sh

test: install ## run every test (jest)
	$(BIN)/jest

test-contract: install ## run the contract suite; CONTRACT_PROCESSOR_ADDR=host:port targets another processor
	$(BIN)/jest reference-processor/test/contract

processor: install ## run the reference processor in the foreground (GRPC_PORT 50051, HTTP_PORT 8000)
	$(SERVICE) reference-processor/src/main.ts

up: install ## run the whole stack on embedded defaults: processor and router (router on :7000)
	@scripts/up.sh

store: install ## run the embedded S3-compatible store (s3rver) alone: port 9000, bucket artorizer, data under ./data/s3
	$(SERVICE) scripts/store/main.ts

router-cluster: install ## run one router per core on the same PORT (node cluster)
	$(SERVICE) router/src/cluster-main.ts

api-key: install ## add an API key to API_KEYS_FILE (default ./api-keys) and print its secret once: make api-key NAME=alice [MAX_PRIORITY=10]
	@$(TSX) router/src/keys-main.ts

dispatcher: install ## run the queue dispatcher as its own process (REDIS_URL or REDIS_CLUSTER_NODES; routers with DISPATCHER=off)
	$(SERVICE) router/src/dispatcher-main.ts

router: install ## run the router alone in the foreground (PORT 7000, PROCESSOR_ADDR 127.0.0.1:50051)
	$(SERVICE) router/src/main.ts

bench: install ## the benchmark suite on loopback: writes bench/results/latest.json and docs/benchmarks.md
	scripts/nginx/install.sh
	scripts/rgw/install.sh
	$(TSX) bench/run-all.ts

bench-smoke: install ## one small run of every benchmark, to prove the suite works (CI)
	$(TSX) bench/run-all.ts --smoke

bench-net: install ## transfers over 100 Mbit/s links in network namespaces (needs root; skips with the reason otherwise)
	$(TSX) bench/net.ts

format: install ## rewrite the TypeScript and JavaScript sources in the house style (prettier; make lint checks it)
	$(BIN)/prettier --write '**/*.{ts,js,cjs,mjs}'

clean: ## remove installed dependencies and local data
	rm -rf node_modules data
