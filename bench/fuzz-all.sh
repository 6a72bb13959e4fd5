#!/usr/bin/env bash
# Long fuzzing runs by hand (not CI): every cargo-fuzz target of the engine and the
# proxy for SECONDS each, LANES targets at a time, each on one core, at nice 19. New
# inputs go to WORK/<target> (the checked-in corpora are only read); a crash leaves
# its input in <crate>/fuzz/artifacts/<target>/ and makes the script exit 1. Prints one
# line per target: executions, wall seconds, corpus size, crashed (0/1).
#
#   bench/fuzz-all.sh [SECONDS=3600] [LANES=2] [WORK=/tmp/daxlite-fuzz] [TARGET...]
#
# With TARGET names only those run (for spreading the hours over several sittings).
# Afterwards `bench/fuzz-merge.sh WORK` folds what the runs found into the checked-in
# corpora (libFuzzer's -merge=1 keeps only inputs that add coverage).
#
# Needs the nightly toolchain and `cargo install cargo-fuzz`.
set -uo pipefail
seconds=${1:-3600}
lanes=${2:-2}
work=${3:-/tmp/daxlite-fuzz}
only=("${@:4}")
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$work"
targets=()
for crate in engine proxy; do
    for t in $(cd "$root/$crate" && cargo +nightly fuzz list); do
        if [ ${#only[@]} -eq 0 ] || [[ " ${only[*]} " == *" $t "* ]]; then
            targets+=("$crate:$t")
        fi
    done
done
for t in "${only[@]}"; do
    [[ " ${targets[*]} " == *":$t "* ]] || { echo "no fuzz target named $t" >&2; exit 2; }
done
run_one() {
    local crate=${1%%:*} t=${1#*:}
    local log="$work/$t.log"
    mkdir -p "$work/$t"
    local dict=()
    [ -f "$root/$crate/fuzz/dictionary.txt" ] && dict=(-dict="$root/$crate/fuzz/dictionary.txt")
    local start
    start=$(date +%s)
    (cd "$root/$crate" && nice -n 19 cargo +nightly fuzz run "$t" "$work/$t" "fuzz/corpus/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 "${dict[@]}") \
        >"$log" 2>&1
    local status=$?
    local execs secs entries
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    secs=$(( $(date +%s) - start ))
    entries=$(ls "$work/$t" | wc -l)
    local crash=0
    [ $status -ne 0 ] && crash=1
    printf '%-16s %-7s execs=%-12s seconds=%-6s corpus=%-6s crashed=%s\n' "$t" "$crate" "${execs:-?}" "$secs" "$entries" "$crash"
    return $status
}
export -f run_one
export root work seconds
failed=0
printf '%s\n' "${targets[@]}" | xargs -P "$lanes" -I{} bash -c 'run_one {}' || failed=1
exit $failed
