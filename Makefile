# stackd — one entry point for people and CI. `make check` before pushing; `make test` runs
# everything, including tests against a real Docker engine (it prepares one with test-env).
JEST := node --experimental-vm-modules node_modules/jest/bin/jest.js
NODE_MODULES := node_modules/.package-lock.json

.PHONY: all build check typecheck lint format test test-unit test-integration test-env bench demo demo-clean install clean

all: build

$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: $(NODE_MODULES)
	rm -rf dist.new
	npx tsc -p tsconfig.build.json --outDir dist.new
	chmod +x dist.new/cmd/stackd/main.js
	rm -rf dist && mv dist.new dist

typecheck: $(NODE_MODULES)
	npx tsc --noEmit

lint: $(NODE_MODULES)
	npx eslint .
	npx prettier --check .

format: $(NODE_MODULES)
	npx prettier --write .

test-unit: $(NODE_MODULES)
	$(JEST) --selectProjects unit

# typecheck + lint + unit tests; needs no Docker.
check: typecheck lint test-unit

test-env:
	bash test/env/setup.sh

test-integration: build
	$(JEST) --selectProjects integration --maxWorkers=2

# Everything: prepares the Docker test environment, builds, type-checks, lints, runs every test.
test: test-env build typecheck lint
	$(JEST) --maxWorkers=2

bench: test-env build
	node --experimental-vm-modules bench/run.js

demo: build
	bash deploy/demo/demo.sh

demo-clean:
	bash deploy/demo/demo.sh clean

install: build
	bash deploy/install.sh

clean:
	rm -rf dist coverage
