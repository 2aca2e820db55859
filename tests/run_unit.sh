#!/usr/bin/env bash
# Runs each unit-test binary as its own process with a time limit; sums the results.
set -u
pass=0; fail=0; bad=0
for t in "$@"; do
    out=$(timeout 300 "$t" 2>&1); rc=$?
    printf '%s\n' "$out" | grep -v '^ok ' >&2
    line=$(printf '%s\n' "$out" | grep -E '^[a-z0-9_]+: [0-9]+ passed, [0-9]+ failed$' | tail -1)
    if [ -z "$line" ] || [ $rc -ne 0 ]; then bad=$((bad+1)); echo "unit: $t exited $rc" >&2; fi
    p=$(printf '%s' "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/'); f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed/\1/')
    pass=$((pass+${p:-0})); fail=$((fail+${f:-0}))
done
echo "unit: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $bad -eq 0 ]
