#!/usr/bin/env bash
# Differential testing at length: http/tests/differential.rs (simmer's server and h11
# read the same generated requests alike, or differ only as its KNOWN list says) over
# ROUNDS seeds of CASES connections each. Needs a Python with h11 (SIMMER_PYTHON, or
# python3; `pip install h11`).
#
#   bash benches/differential.sh                 # 20 seeds x 20,000 connections
#   ROUNDS=3 CASES=5000 bash benches/differential.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-20}
CASES=${CASES:-20000}
FIRST_SEED=${FIRST_SEED:-100}
cargo test -p simmer-http --test differential --no-run --quiet
for seed in $(seq "$FIRST_SEED" $((FIRST_SEED + ROUNDS - 1))); do
  SIMMER_DIFF_SEED=$seed SIMMER_DIFF_CASES=$CASES \
    cargo test -p simmer-http --test differential --quiet -- --nocapture 2>&1 |
    grep -E "^differential|not in KNOWN|^case|^  (simmer|h11):|test result" || true
done
