#!/usr/bin/env bash
# Builds every tests/fuzz/fuzz_*.c as a libFuzzer binary (clang, ASan+UBSan) and runs each for
# SECONDS over a scratch copy of its committed corpus (tests/fuzz/corpus/<name>, name = file
# name without "fuzz_"), so runs never grow the committed corpus.
#
#   tests/fuzz/run.sh [SECONDS]        (default 20; `make fuzz FUZZ_TIME=...`)
#   FUZZ_ONLY="route xml" tests/fuzz/run.sh 5    to run a subset
#
# The library (src/**/*.c except src/main.c) is compiled once into an archive with coverage
# instrumentation; each target links only the objects it needs, so a broken file elsewhere in
# src/ fails only the targets that use it. Prints one line per target; exits 1 if any target
# failed to build or found a crash (artifacts go to build/fuzz/artifacts/).
set -u
cd "$(dirname "$0")/../.."

SECONDS_PER=${1:-20}
OUT=build/fuzz
OBJ=$OUT/obj
ART=$OUT/artifacts
PKGS="libmicrohttpd openssl expat jansson libzstd libcurl lmdb libisal"
CC=${FUZZ_CC:-clang}
CFLAGS="-std=c17 -D_GNU_SOURCE -DSTRATA_SANITIZE -Isrc -g -O1 -fno-omit-frame-pointer"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
JOBS=$(nproc 2>/dev/null || echo 2)

if ! command -v "$CC" >/dev/null; then
    echo "fuzz: $CC not found" >&2
    exit 1
fi
mkdir -p "$OBJ" "$ART"
LIBS="$(pkg-config --libs $PKGS 2>/dev/null) -lpthread -lm"
CFLAGS="$CFLAGS $(pkg-config --cflags $PKGS 2>/dev/null)"

# ---- library objects (incremental: rebuilt when the source or a header is newer) ----------
lib_fail=()
objs=()
compile_one() { # src obj
    mkdir -p "$(dirname "$2")"
    $CC $CFLAGS $SAN -fsanitize=fuzzer-no-link -c "$1" -o "$2.tmp" 2>"$2.log" && mv "$2.tmp" "$2"
}
export -f compile_one
export CC CFLAGS SAN
newest_hdr=$(find src -name '*.h' -printf '%T@\n' | sort -n | tail -1)
todo=()
for src in $(find src -name '*.c' ! -path src/main.c | sort); do
    o=$OBJ/${src%.c}.o
    objs+=("$o")
    if [ ! -f "$o" ] || [ "$src" -nt "$o" ] ||
        awk -v h="$newest_hdr" -v t="$(stat -c %Y "$o")" 'BEGIN{exit !(h > t)}'; then
        rm -f "$o"
        todo+=("$src $o")
    fi
done
if [ ${#todo[@]} -gt 0 ]; then
    printf '%s\n' "${todo[@]}" | xargs -P "$JOBS" -L 1 bash -c 'compile_one "$0" "$1"'
fi
good=()
for o in "${objs[@]}"; do
    if [ -f "$o" ]; then good+=("$o"); else lib_fail+=("${o#$OBJ/}"); fi
done
for f in "${lib_fail[@]}"; do
    echo "fuzz: library file ${f%.o}.c does not compile (see $OBJ/$f.log)" >&2
done
rm -f "$OUT/libfuzz.a"
ar rcs "$OUT/libfuzz.a" "${good[@]}"

# ---- targets ------------------------------------------------------------------------------
status=0
summary=()
for src in tests/fuzz/fuzz_*.c; do
    [ -e "$src" ] || continue
    base=$(basename "$src" .c)
    name=${base#fuzz_}
    if [ -n "${FUZZ_ONLY:-}" ] && ! [[ " $FUZZ_ONLY " == *" $name "* ]]; then
        continue
    fi
    bin=$OUT/$base
    if ! $CC $CFLAGS $SAN -fsanitize=fuzzer "$src" "$OUT/libfuzz.a" $LIBS -o "$bin" \
        >"$OUT/$base.build.log" 2>&1; then
        summary+=("$base: BUILD FAILED (see $OUT/$base.build.log)")
        status=1
        continue
    fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/strata-fuzz-$name.XXXXXX")
    if [ -d "tests/fuzz/corpus/$name" ]; then
        cp -R "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
    fi
    log=$OUT/$base.log
    ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        timeout $((SECONDS_PER + 120)) "$bin" -max_total_time="$SECONDS_PER" -timeout=10 \
        -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$ART/$base-" "$work" >"$log" 2>&1
    rc=$?
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1)
    if [ $rc -eq 0 ]; then
        summary+=("$base: ok (${runs:-?} runs, ${cov:-cov: ?}, corpus $(ls "$work" | wc -l))")
    else
        crash=$(ls -t "$ART/$base-"* 2>/dev/null | head -1)
        summary+=("$base: FAILED exit $rc (log $log${crash:+, input $crash})")
        status=1
    fi
    rm -rf "$work"
done

for line in "${summary[@]}"; do echo "$line"; done
if [ ${#lib_fail[@]} -gt 0 ]; then
    echo "fuzz: ${#lib_fail[@]} library file(s) failed to compile" >&2
    status=1
fi
[ ${#summary[@]} -gt 0 ] || { echo "fuzz: no targets" >&2; status=1; }
exit $status
