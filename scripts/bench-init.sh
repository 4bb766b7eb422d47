#!/usr/bin/env bash
# Cold start of each Lambda function against a bare lambda_runtime hello world (init-hello,
# tests/init-hello), both release builds of this workspace: the time from process
# start to the function's first `GET /2018-06-01/runtime/invocation/next` at a mock Runtime
# API, p50 over N starts each (default 20), and the CPU time of the start. What a function
# reads at start is served locally: the desk configuration object (S3) and the inbox secret
# (Secrets Manager) by a canned endpoint that answers at once, or with OMNIDESK_BENCH_MOTO=1
# by moto (real wire formats, but moto's latency, tens of ms on a busy machine); the table
# and queues are only names at start. Prints the ratios to hello world.
#
#   scripts/bench-init.sh [starts]            # builds release once, measures
#   OMNIDESK_BENCH_NO_BUILD=1 scripts/bench-init.sh   # measure the binaries already built
#   OMNIDESK_BENCH_PROFILE=bench-init ...     # the release code with symbols (Cargo.toml)
#   OMNIDESK_BENCH_CALLGRIND=1 ...            # also count each start's instructions
#
# Release builds are slow on a small machine (the whole workspace, cold: tens of minutes);
# the binaries land in $CARGO_TARGET_DIR/<profile>, stripped by the release profile, and their
# sizes are printed too. Times move with the machine's load; the instruction counts of
# OMNIDESK_BENCH_CALLGRIND (valgrind, scripts/bench-init/callgrind.py) do not, and its
# output files (under $CARGO_TARGET_DIR/bench-init-callgrind) say where the instructions went.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
starts="${1:-20}"
profile="${OMNIDESK_BENCH_PROFILE:-release}"
if [[ -z "${OMNIDESK_BENCH_NO_BUILD:-}" ]]; then
    build_start=$SECONDS
    cargo build --workspace --locked --profile "$profile" --bins
    echo "bench-init: release build took $((SECONDS - build_start)) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
fi
if [[ -n "${OMNIDESK_BENCH_MOTO:-}" ]]; then
    # shellcheck source=moto.sh
    source scripts/moto.sh
    trap moto_stop EXIT
    python3 scripts/bench-init/measure.py "$CARGO_TARGET_DIR/$profile" "$starts" "$OMNIDESK_MOTO_ENDPOINT"
else
    python3 scripts/bench-init/measure.py "$CARGO_TARGET_DIR/$profile" "$starts"
fi
if [[ -n "${OMNIDESK_BENCH_CALLGRIND:-}" ]]; then
    mapfile -t built < <(cd functions && for f in *; do [[ -x "$CARGO_TARGET_DIR/$profile/$f" ]] && echo "$f"; done)
    python3 scripts/bench-init/callgrind.py "$CARGO_TARGET_DIR/$profile" "$CARGO_TARGET_DIR/bench-init-callgrind" "${built[@]}"
fi
