#!/usr/bin/env bash
# The Double-11 load simulation (tests/benches/peak_sim.rs): a seeded traffic model through the
# real router, dispatcher, agent desk and SLA sweeper on the memory twin, in simulated time,
# at 1× to 100× of the peak rate; per step: units per second, the hottest partition of the
# table and of each index against DynamoDB's per-partition limits, implied Lambda
# concurrency, queue depth, SES sends. CAPACITY.md explains the model and the figures.
#
#   scripts/peak-sim.sh [--steps 1,2,5,10,20,50,100] [--seconds 2] [--seed 11]
#
# A debug build (it shares the test build's cache); nothing is timed against a limit, and
# handler times only feed the implied concurrency, an upper bound in a debug build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
cargo bench --workspace --locked --bench peak_sim --profile dev -- "$@"
