# crib: the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
# --test-timeout: a test that hangs fails after 10 minutes instead of holding CI to its 90-minute limit.
NODE_TEST := node --import tsx --test --test-concurrency=1 --test-reporter=spec --test-timeout=600000

.PHONY: all deps node-deps gen build typecheck lint run test test-unit test-integration test-compat bench clean mapping

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
# One file for bin/crib (esbuild): node loads it in a third of the time of ~500 modules, and smaller.
	npm run -s bundle

typecheck: gen
	npx tsc -p tsconfig.json --noEmit

.PHONY: deps-check
# The import rules (.dependency-cruiser.cjs, drawn in docs/ARCHITECTURE.md): a wrong arrow fails.
deps-check: gen
	npx depcruise --config .dependency-cruiser.cjs src scripts bench test

lint: typecheck

run: deps build
	node --enable-source-maps dist/scripts/run.js -- $(ARGS)

test: deps typecheck deps-check test-unit test-integration test-compat

test-unit: gen
	$(NODE_TEST) test/unit/*.test.ts

test-integration: gen build
	npx tsx test/harness/run.ts --with-cri -- $(NODE_TEST) test/integration/*.test.ts

# containerd 1.7 (trixie) and 1.6 (bookworm): the lifecycle, image, streaming and crash suites.
COMPAT_TESTS := test/integration/images.test.ts test/integration/pods.test.ts test/integration/containers.test.ts test/integration/streaming.test.ts test/integration/mapping.test.ts
# kill -9 at each containerd call: ~80 s per version (their shims and clean-up differ from 2.x).
COMPAT_TESTS += test/integration/crash.test.ts
test-compat: gen build
	@for v in 1.7 1.6; do \
	  echo "== containerd $$v: $(COMPAT_TESTS)"; \
	  CRIB_CONTAINERD=$$v npx tsx test/harness/run.ts -- $(NODE_TEST) $(COMPAT_TESTS) || exit 1; \
	done

# docs/mapping.md from a real run of test/mapping/scenario.ts (test/integration/mapping.test.ts checks it).
# The scenario runs on containerd 1.7 and 1.6 first; the doc lists where their calls differ.
mapping: deps gen build
	@for v in 1.7 1.6; do CRIB_CONTAINERD=$$v npx tsx test/harness/run.ts -- npx tsx test/mapping/generate.ts --cases-for $$v || exit 1; done
	npx tsx test/harness/run.ts -- npx tsx test/mapping/generate.ts

# The benchmark runs bin/crib, i.e. the built dist/.
bench: deps build
	npx tsx test/harness/run.ts --with-cri -- npx tsx bench/run.ts

clean:
	rm -rf dist src/gen
