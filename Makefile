# longhaul: the two commands of the quick start are `make run` and `make test`.
BUILD_DIR ?= build
ASAN_DIR  ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
# Integration tests create namespaces and links: run the test runner as root.
AS_ROOT = $(if $(filter 0,$(shell id -u)),,sudo)
SOURCES = $(shell find src tests bench -name '*.cc' -o -name '*.hh')

.PHONY: all deps build run test test-unit test-integration test-asan bench bench-soak format format-check install deb clean

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

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DLONGHAUL_SANITIZE=ON > /dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS) --target longhaul_unit_tests longhaul
	@cd $(ASAN_DIR) && ctest --output-on-failure -L unit

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

install: build
	@cmake --install $(BUILD_DIR)

# build/longhaul_VERSION_ARCH.deb, packed by CPack from the build tree (see CMakeLists.txt).
deb: build
	@cd $(BUILD_DIR) && cpack -G DEB

clean:
	@rm -rf $(BUILD_DIR) $(ASAN_DIR)
