# longhaul: the two commands of the quick start are `make run` and `make test`.
BUILD_DIR ?= build
FUZZ_DIR  ?= build-fuzz
# Seconds each fuzz target runs under `make fuzz` (docs/robustness.md records full runs).
FUZZ_SECONDS ?= 600
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Integration tests create namespaces and links: run the test runner as root.
AS_ROOT = $(if $(filter 0,$(shell id -u)),,sudo)
SOURCES = $(shell find src tests bench -name '*.cc' -o -name '*.hh')

.PHONY: all deps build run test test-unit test-integration sanitize-configure test-asan fuzz fuzz-build test-fuzz bench bench-soak format format-check docs install uninstall deb clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) > /dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# The quick start: brings up the four-site lab (examples/four-sites.toml), measures its RTT
# matrix and a TCP stream per lane, shows `tune` advice, takes the lab down (scripts/demo.py).
run: build
	@scripts/demo.sh $(BUILD_DIR)/longhaul

# Every test: unit tests (pure models on a manual clock) and integration tests
# (real namespaces and traffic; need root).
test: build
	@cd $(BUILD_DIR) && $(AS_ROOT) ctest --output-on-failure --timeout 1800

test-unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -L unit

test-integration: build
	@cd $(BUILD_DIR) && $(AS_ROOT) ctest --output-on-failure -L integration

# The sanitizer build: clang with AddressSanitizer and UndefinedBehaviorSanitizer, in FUZZ_DIR.
# It holds the unit tests (`make test-asan`) and the libFuzzer targets of tests/fuzz (`make fuzz`
# runs each for FUZZ_SECONDS, one after another; `make test-fuzz` for 10 s each, what CI runs),
# so the code is compiled once for both.
sanitize-configure: deps
	@CXX=clang++-14 cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLONGHAUL_FUZZ=ON > /dev/null

test-asan: sanitize-configure
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target longhaul_unit_tests
	@cd $(FUZZ_DIR) && ctest --output-on-failure -j $(JOBS) -L unit

FUZZ_TARGETS = units netem dist_table topology trace schedule frame state printable control_api

fuzz-build: sanitize-configure
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(addsuffix _fuzz,$(FUZZ_TARGETS))

fuzz: fuzz-build
	@for target in $(FUZZ_TARGETS); do \
	  echo "== $$target ($(FUZZ_SECONDS) s)"; \
	  tests/fuzz/run-fuzz.sh $(FUZZ_DIR)/tests/fuzz/$${target}_fuzz tests/fuzz/corpus/$$target $(FUZZ_SECONDS) || exit 1; \
	done

test-fuzz: fuzz-build
	@cd $(FUZZ_DIR) && ctest --output-on-failure -j $(JOBS) -L fuzz

# Figures, not pass/fail: see bench/README.md and docs/performance.md.
bench: build
	@bench/run.sh $(BUILD_DIR)

# The emulator's memory over a 10-minute bulk transfer (SOAK_SECONDS): see bench/README.md.
bench-soak: build
	@bench/run.sh $(BUILD_DIR) soak

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES)

# The parameter tables in docs/run.md, docs/topology.md and docs/longhaul.1, generated from the
# parameter table (src/link/schema.cc); the unit tests fail while they differ.
docs: build
	@scripts/update-docs.py $(BUILD_DIR)/longhaul

# Installs under PREFIX (default /usr/local): bin/longhaul and share/man/man1/longhaul.1.
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# Removes exactly what the last `make install` wrote (CMake's install manifest lists it).
uninstall:
	@test -f $(BUILD_DIR)/install_manifest.txt || { echo "make uninstall: no $(BUILD_DIR)/install_manifest.txt: nothing was installed from this build directory" >&2; exit 1; }
	@while read -r file || [ -n "$$file" ]; do rm -fv "$$file"; done < $(BUILD_DIR)/install_manifest.txt

# build/longhaul_VERSION_ARCH.deb, packed by CPack from the build tree (see CMakeLists.txt).
deb: build
	@cd $(BUILD_DIR) && cpack -G DEB

clean:
	@rm -rf $(BUILD_DIR) $(FUZZ_DIR)
