#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for DURATION seconds (default 3600) at once,
# niced, each logging to $OUT/<target>.log, then prints executions and crashes per
# target. Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   DURATION=3600 benches/fuzz.sh            # what the README's figures come from
#   TARGETS="chunked" DURATION=60 benches/fuzz.sh
#
# New inputs go to $OUT/corpus/<target> (the checked-in fuzz/corpus/<target> seeds it
# and is never written); crashes to fuzz/artifacts/<target>/. To keep an input, copy it
# into fuzz/corpus/<target>/ (crashes as crash-<what>), where the stable tests
# http/tests/fuzz_corpus.rs and postgres/tests/fuzz_corpus.rs replay it.
#
# Keep that corpus small: after adding inputs, let libFuzzer's merge pick the ones that
# add coverage, and remove from fuzz/corpus/<target> the others (never a crash-* file),
# so seed-* and crash-* names stay readable. With binaries from `cargo +nightly fuzz
# build` (fuzz/target/x86_64-unknown-linux-gnu/release/<target>):
#
#   mkdir /tmp/min && fuzz/target/x86_64-unknown-linux-gnu/release/chunked \
#     -merge=1 /tmp/min fuzz/corpus/chunked
#   for f in fuzz/corpus/chunked/*; do
#     [ -e "/tmp/min/$(sha1sum < "$f" | cut -c1-40)" ] || git rm -q "$f"; done
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-3600}
TARGETS=${TARGETS:-"request_head chunked response_head pg_messages"}
OUT=${OUT:-/tmp/simmer-fuzz}
mkdir -p "$OUT"

(cd fuzz && cargo +nightly fuzz build -a)

pids=()
for target in $TARGETS; do
  mkdir -p "$OUT/corpus/$target"
  (cd fuzz && exec nice -n 19 cargo +nightly fuzz run -a "$target" \
      "$OUT/corpus/$target" "corpus/$target" -- \
      -max_total_time="$DURATION" -max_len=4096 -timeout=10 -print_final_stats=1) \
      >"$OUT/$target.log" 2>&1 &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done

printf '%-14s %14s %8s %s\n' target executions crashes "corpus (inputs)"
for target in $TARGETS; do
  log="$OUT/$target.log"
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  crashes=$(grep -c -E '^==[0-9]+== ERROR|deadly signal|panicked at' "$log" || true)
  inputs=$(find "$OUT/corpus/$target" -type f | wc -l)
  printf '%-14s %14s %8s %s\n' "$target" "${execs:-?}" "$crashes" "$inputs"
done
exit $status
