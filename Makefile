# stackd — one entry point for people and CI. `make check` before pushing: every test that needs
# no Docker engine; `make test` runs everything, including the tests against a real Docker engine
# (it prepares one with test-env). jest.config.js says which test is which.
JEST := node --experimental-vm-modules node_modules/jest/bin/jest.js
# The stamp of an installed node_modules (npm ci writes it). Not NODE_MODULES: that is
# install.sh's knob (`make install NODE_MODULES=copy`), and a command-line variable would win.
DEPS := node_modules/.package-lock.json
# Caches of the checks, per work tree (node_modules may be shared between work trees).
CACHE := .cache
CLI := dist/cmd/stackd/main.js
# The status page's files served as they are (its TypeScript is compiled by its own tsconfig).
UI := internal/server/ui
UI_FILES := $(UI)/index.html $(UI)/app.css $(UI)/favicon.svg $(UI)/tsconfig.json $(UI)/tsconfig.build.json
# What the build reads: dist/ is rebuilt only when one of these changed.
BUILD_INPUTS := $(shell find cmd pkg internal -name '*.ts' ! -name '*.test.ts' ! -name '*.test-helpers.ts') \
	$(UI_FILES) tsconfig.json tsconfig.build.json package.json

.PHONY: all build check typecheck lint format test test-all test-unit test-integration test-env dist bench demo demo-clean install clean

all: build

# The lockfile alone decides what is installed (a change to package.json's scripts reinstalls nothing).
$(DEPS): package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Always a fresh build (`make build`); `dist` alone rebuilds only when a source changed.
build:
	rm -f $(CLI)
	$(MAKE) dist

dist: $(CLI)
$(CLI): $(BUILD_INPUTS) $(DEPS)
	rm -rf dist.new
	npx tsc -p tsconfig.build.json --outDir dist.new
	npx tsc -p $(UI)/tsconfig.build.json --outDir dist.new/internal
	cp $(UI)/index.html $(UI)/app.css $(UI)/favicon.svg dist.new/internal/server/ui/
	chmod +x dist.new/cmd/stackd/main.js
	touch dist.new/cmd/stackd/main.js
	rm -rf dist && mv dist.new dist

typecheck: $(DEPS)
	npx tsc --noEmit --incremental --tsBuildInfoFile $(CACHE)/tsc.tsbuildinfo
	npx tsc --noEmit --incremental --tsBuildInfoFile $(CACHE)/tsc-ui.tsbuildinfo -p $(UI)

lint: $(DEPS)
	npx eslint --cache --cache-location $(CACHE)/eslint .
	npx prettier --check --cache --cache-location $(CACHE)/prettier .

format: $(DEPS)
	npx prettier --write .

# The jest project `check`: every test that needs no Docker engine (some run the built CLI).
test-unit: dist
	$(JEST) --selectProjects check --maxWorkers=2

# typecheck + lint + every test that needs no Docker engine.
check: typecheck lint test-unit

test-env:
	bash test/env/setup.sh

# The jest project `engine`: the tests against a real Docker engine (four workers: see `test`).
test-integration: dist
	$(JEST) --selectProjects engine --maxWorkers=4

# Everything: prepares the Docker test environment, builds, type-checks, lints, runs every test.
# Four jest workers on two cores: the engine tests mostly wait on compose and the engine (two
# workers left a core idle half the time: 375 s → 247 s for the whole suite). Running the type
# check and lint alongside jest was tried and is slower (6m31 vs 6m03 from a clean clone).
test: test-env build typecheck lint test-all

# Every test, both projects (the README's test command).
test-all: dist
	$(JEST) --maxWorkers=4

bench: test-env build
	node --experimental-vm-modules bench/run.js

demo: build
	bash deploy/demo/demo.sh

demo-clean:
	bash deploy/demo/demo.sh clean

# `dist`, not `build`: an up-to-date dist/ is installed as it is (nothing rebuilt, no npm ci, so
# NODE_MODULES=copy needs no network); a fresh clone still gets npm ci and a build first.
install: dist
	bash deploy/install.sh

clean:
	rm -rf dist coverage $(CACHE)
