# corral — entry points: make, make test, make lint, make format, make conformance, make bench, make demo, make install.
SHELL := /bin/bash
NODE ?= $(shell command -v node)
PREFIX ?= /usr/local
HERE := $(abspath .)
TS_SOURCES := $(shell find src -name '*.ts') package.json scripts/bundle.mjs scripts/boot.js
ADDON_SOURCES := $(wildcard addon/CMakeLists.txt addon/glue/* addon/init/*)

.PHONY: all deps lint format test unit integration conformance bench demo install clean

all: bin/corral

# Everything a fresh Debian 12 machine lacks (idempotent; apt only when something is missing).
deps:
	@./scripts/install-deps.sh

# What the formatters own: prettier the TypeScript and JavaScript, clang-format the C++
# (one line width: .prettierrc's printWidth is .clang-format's ColumnLimit).
PRETTIER_FILES := 'src/**/*.ts' 'test/**/*.{ts,mjs}' 'scripts/**/*.{js,mjs}' eslint.config.mjs
CXX_SOURCES := $(wildcard addon/glue/*.cc addon/init/*.cc addon/init/*.h)

# Caches in node_modules/.cache keyed on content: a second run checks only what changed.
lint: node_modules/.package-lock.json
	npx prettier --check --cache --log-level warn $(PRETTIER_FILES)
	npx eslint --cache --cache-strategy content --cache-location node_modules/.cache/eslint/ --max-warnings 0 .
	clang-format --dry-run --Werror $(CXX_SOURCES)

# Rewrites the layout only (eslint's fixes can change code: they are made by hand).
format: node_modules/.package-lock.json
	npx prettier --write --log-level warn $(PRETTIER_FILES)
	clang-format -i $(CXX_SOURCES)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build/schemas/validators.js: scripts/build-schemas.mjs schemas/spec-1.3-additions.json schemas/runc-lenient.json node_modules/.package-lock.json
	npm run --silent build:schemas

# The plan's records, defined in TypeScript, as the C++ header corral-init parses with.
build/gen/plan_records.h: src/linux/plan-records.ts scripts/gen-plan-header.mjs scripts/ts-module.mjs node_modules/.package-lock.json
	node scripts/gen-plan-header.mjs

# corral's words for each errno, defined in TypeScript, as the table corral-init and the addon print.
build/gen/errno_text.h: src/base/errno.ts scripts/gen-errno-header.mjs scripts/ts-module.mjs node_modules/.package-lock.json
	node scripts/gen-errno-header.mjs

build/addon/.built: $(ADDON_SOURCES) build/gen/plan_records.h build/gen/errno_text.h node_modules/.package-lock.json
	npm run --silent build:addon
	@touch $@

dist/corral.js: $(TS_SOURCES) build/schemas/validators.js node_modules/.package-lock.json
	npx tsc -p tsconfig.build.json
	node scripts/bundle.mjs
	cp scripts/boot.js dist/boot.js

# The code caches come from training runs that load the addon: after both are in dist/.
dist/.cache: dist/corral.js dist/.addon scripts/make-code-cache.sh
	./scripts/make-code-cache.sh $(NODE)
	@touch $@

dist/.addon: build/addon/.built
	mkdir -p dist
	cp build/addon/corral-init dist/corral-init
	cp build/addon/Release/corral.node dist/corral.node
	@touch $@

# The launcher: Node reads NODE_EXTRA_CA_CERTS at every start (~45 ms here) and
# containerd passes its whole environment on; corral makes no TLS connections.
bin/corral: dist/.cache
	mkdir -p bin
	printf '#!/bin/sh\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec %s %s/dist/boot.js "$$@"\n' "$(NODE)" "$(HERE)" > $@
	chmod 755 $@

install: all
	install -d $(PREFIX)/lib/corral $(PREFIX)/bin
	install -m 644 dist/*.js dist/*.cache $(PREFIX)/lib/corral/
	install -m 755 dist/corral-init dist/corral.node $(PREFIX)/lib/corral/
	printf '#!/bin/sh\nunset NODE_EXTRA_CA_CERTS NODE_OPTIONS\nexec %s %s/lib/corral/boot.js "$$@"\n' "$(NODE)" "$(PREFIX)" > $(PREFIX)/bin/corral
	chmod 755 $(PREFIX)/bin/corral

bundles/busybox/rootfs/bin/busybox: bundles/make-busybox.sh bundles/busybox-config.json
	./bundles/make-busybox.sh bundles/busybox

demo: deps all bundles/busybox/rootfs/bin/busybox
	./bundles/demo.sh

unit: all
	npx tap --disable-coverage --allow-empty-coverage --reporter=terse --timeout=120 test/unit/*.test.ts

integration: all bundles/busybox/rootfs/bin/busybox
	npx tap --disable-coverage --allow-empty-coverage --reporter=terse --jobs=1 --timeout=600 test/integration/*.test.ts

conformance: all
	./conformance/check.sh

test: deps all bundles/busybox/rootfs/bin/busybox
	npx tsc -p .
	$(MAKE) --no-print-directory lint
	node scripts/check-layers.mjs
	npx tap --disable-coverage --allow-empty-coverage --reporter=terse --jobs=1 --timeout=900 test/unit/*.test.ts test/integration/*.test.ts test/compat/*.test.ts
	./conformance/check.sh

bench: all bundles/busybox/rootfs/bin/busybox
	node scripts/bench.mjs

clean:
	rm -rf build dist bin/corral
