# Strata build. `make` builds build/strata; `make test` runs the whole suite (plain and
# ASan+UBSan); `make run` installs what is missing, builds and starts a server.
CC       ?= cc
SANITIZE ?= 0
PKGS     := libmicrohttpd openssl expat jansson libzstd libcurl lmdb libisal

ifeq ($(SANITIZE),1)
BUILD    ?= build/asan
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -DSTRATA_SANITIZE
OPT      := -O1
else
BUILD    ?= build
SANFLAGS :=
OPT      := -O2
endif

WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wpointer-arith -Wno-unused-parameter -Werror
CFLAGS   += -std=c17 -D_GNU_SOURCE -g $(OPT) $(WARN) $(SANFLAGS) -Isrc -MMD -MP \
            $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS  += $(SANFLAGS)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

LIB_SRC  := $(shell find src -name '*.c' ! -path src/main.c | sort)
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

.PHONY: all deps run test test-unit test-integration test-crash test-asan fuzz bench clean format

all: $(BUILD)/strata

deps:
	@bash scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libstrata.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/strata: $(BUILD)/obj/src/main.o $(BUILD)/libstrata.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libstrata.a tests/unit/t.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libstrata.a $(LDLIBS)

test-unit: $(UNIT_BIN)
	@bash tests/run_unit.sh $(UNIT_BIN)

test-integration: $(BUILD)/strata
	STRATA_BIN=$(abspath $(BUILD)/strata) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

test-crash: $(BUILD)/strata
	STRATA_BIN=$(abspath $(BUILD)/strata) /usr/bin/python3 tests/crash/crash_test.py

# Big objects: >= 20 GiB streamed through a multipart upload and back while the server's RSS
# must stay under 100 MiB (minutes on a small machine, so not part of `make test`, which runs
# the same test at 1 GiB). STRATA_BIG_GIB sets the size; the result line is printed and
# appended to $STRATA_BIG_REPORT when that is set.
.PHONY: test-big
test-big: deps $(BUILD)/strata
	STRATA_BIN=$(abspath $(BUILD)/strata) STRATA_BIG=1 /usr/bin/python3 -m pytest -q -s \
	  -p no:cacheprovider tests/integration/test_multipart.py -k 20gib

# The whole suite: plain build, then again under ASan+UBSan.
test: deps
	$(MAKE) all test-unit test-crash
	$(MAKE) SANITIZE=1 all test-unit
	STRATA_BIN=$(abspath build/asan/strata) ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
	$(MAKE) test-integration

# libFuzzer targets (clang), each run briefly over its committed corpus.
FUZZ_TIME ?= 20
fuzz: deps
	@bash tests/fuzz/run.sh $(FUZZ_TIME)

run: deps all
	$(BUILD)/strata server --data ./data --listen 127.0.0.1:9000

# Benchmarks (bench/, see docs/performance.md): the S3 load generator, the fdatasync reference
# loop and the cold-start probe, then bench/run.sh, which compares Strata with nginx and the
# filesystem side by side. Needs nginx (scripts/deps.sh bench); `make test` does not.
# BENCH_FULL=1 adds the 1,000,000-object runs (minutes).
BENCH_BIN := $(BUILD)/bench/s3bench $(BUILD)/bench/fsync_loop $(BUILD)/bench/coldstart
BENCH_FULL ?= 0
BENCH_TIMEOUT ?= 5400

$(BUILD)/bench/%: bench/%.c bench/hist.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench $(LDFLAGS) -o $@ $< $(LDLIBS)

bench: $(BUILD)/strata $(BENCH_BIN)
	@bash scripts/deps.sh bench
	BENCH_FULL=$(BENCH_FULL) timeout -k 30 $(BENCH_TIMEOUT) bash bench/run.sh $(abspath $(BUILD))

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/obj/src/main.d
