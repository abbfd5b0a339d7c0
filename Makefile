# lever - top-level entry points. The build itself is CMake, in build/.
#   make          build everything
#   make run      install what is missing, build, start leverd (embedded store)
#   make test     install what is missing, build, run every test
#   make bench    benchmarks side by side with the reference systems
#   make fuzz     run each libFuzzer target for FUZZ_SECONDS (clang)
#   make soak     reads and writes with periodic SIGKILL for SOAK_SECONDS
#   make install  build, then install into PREFIX (default /usr/local; DESTDIR honoured)

BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 180
LEVER_DATA ?= ./lever-data
PREFIX ?= /usr/local

.PHONY: all build run test test-unit test-asan bench fuzz soak deps deps-test check-deps install clean

all: build

deps:
	@sh scripts/deps.sh build

deps-test:
	@sh scripts/deps.sh test
	@sh scripts/console-deps.sh

# Fails, naming the package, when the build or the tests use something that
# scripts/deps.sh does not install (docs/testing.md).
check-deps: deps-test
	@/usr/bin/python3 scripts/check-deps.py

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: deps-test build
	@sh scripts/run.sh $(BUILD)/leverd "$(LEVER_DATA)"

test: deps-test check-deps build
	@ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	@$(MAKE) --no-print-directory test-asan

# The unit tests and fuzz corpora again, under AddressSanitizer and UBSan.
test-asan:
	@cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DLEVER_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)-asan -j $(JOBS)
	@ASAN_OPTIONS=detect_leaks=1 ctest --test-dir $(BUILD)-asan --output-on-failure -j $(JOBS)

bench: build
	@sh scripts/deps.sh bench
	@sh bench/run.sh $(if $(QUICK),--quick,)

fuzz: deps
	@sh scripts/deps.sh fuzz
	@cmake -S . -B $(BUILD)-fuzz -DCMAKE_C_COMPILER=clang -DLEVER_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)-fuzz -j $(JOBS) --target fuzz_targets
	@sh scripts/fuzz.sh $(BUILD)-fuzz $(FUZZ_SECONDS)

# Mixed load with periodic SIGKILL and restart; checks every acknowledged
# write afterwards (results in docs/soak-results.txt).
soak: deps-test build
	@sh scripts/soak.sh $(BUILD) $(SOAK_SECONDS)

# leverd, lever, lever-agent, their man pages, liblever (static and shared),
# include/lever/lever.h and lever.pc.
install: build
	@cmake --install $(BUILD) --prefix "$(PREFIX)"

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
