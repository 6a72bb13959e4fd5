#!/usr/bin/env bash
# Folds the inputs a long fuzzing run found (bench/fuzz-all.sh's WORK/<target>) into the
# checked-in corpora <crate>/fuzz/corpus/<target>: libFuzzer's -merge=1 adds only the
# inputs that reach new coverage, so the corpora stay small enough for CI to replay
# every file (`reliability::every_fuzz_corpus_file_replays_through_its_target`).
# Prints, per target, the corpus size before and after.
#
#   bench/fuzz-merge.sh [WORK=/tmp/daxlite-fuzz]
#
# Needs the nightly toolchain and `cargo install cargo-fuzz`.
set -euo pipefail
work=${1:-/tmp/daxlite-fuzz}
root=$(cd "$(dirname "$0")/.." && pwd)
for crate in engine proxy; do
    for t in $(cd "$root/$crate" && cargo +nightly fuzz list); do
        [ -d "$work/$t" ] || continue
        corpus="$root/$crate/fuzz/corpus/$t"
        before=$(ls "$corpus" | wc -l)
        (cd "$root/$crate" && nice -n 19 cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "$work/$t" -- \
            -merge=1 -timeout=10 -rss_limit_mb=4096) >"$work/$t.merge.log" 2>&1
        printf '%-16s %-7s corpus %s -> %s files\n' "$t" "$crate" "$before" "$(ls "$corpus" | wc -l)"
    done
done
