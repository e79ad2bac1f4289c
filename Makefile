# crib: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
NODE_TEST := node --import tsx --test --test-concurrency=1 --test-reporter=spec

.PHONY: all deps node-deps gen build typecheck lint run test test-unit test-integration bench clean

all: build

# System packages (containerd 2.x privately, runc, CNI plugins, registry, image tools).
deps:
	@scripts/install-deps.sh

node-deps: node_modules/.package-lock.json
# npm ci installs exactly the lockfile (and fails when package.json disagrees with it).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

gen: node-deps
	npx buf generate

# dist/ holds the JavaScript bin/crib and make run execute (src/ and scripts/ only).
build: gen
	npx tsc -p tsconfig.build.json

typecheck: gen
	npx tsc -p tsconfig.json --noEmit

lint: typecheck

run: deps build
	node --enable-source-maps dist/scripts/run.js -- $(ARGS)

test: deps typecheck test-unit test-integration

test-unit: gen
	$(NODE_TEST) test/unit/*.test.ts

test-integration: gen
	npx tsx test/harness/run.ts --with-cri -- $(NODE_TEST) test/integration/*.test.ts

# The benchmark runs bin/crib, i.e. the built dist/.
bench: deps build
	npx tsx test/harness/run.ts --with-cri -- npx tsx bench/run.ts

clean:
	rm -rf dist src/gen
