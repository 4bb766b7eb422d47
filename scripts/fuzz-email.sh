#!/usr/bin/env bash
# A longer hunt with the email parser's property tests (shared/domain/src/email/tests.rs:
# random bytes, MIME soup, mutated golden fixtures, HTML, quote splitting, the loop guard):
# PROPTEST_CASES cases each, bounded by a timeout, on the test build's shared target dir.
# Prints how many cases ran; exits non-zero if a property failed (proptest saves the failing
# input under shared/domain/proptest-regressions/) or the build failed. Running out of time
# is not a failure: the properties that finished are counted, the rest are named.
#
#   scripts/fuzz-email.sh [cases] [timeout-seconds]      (default 20000 cases, 300 s)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
cases="${1:-${PROPTEST_CASES:-20000}}"
budget="${2:-300}"

# The properties: every `fn` inside the `proptest! { ... }` block of the email tests.
mapfile -t properties < <(awk '/^proptest! \{/ { inside = 1 } inside && match($0, /^    fn [a-z0-9_]+\(/) {
    name = substr($0, RSTART + 7, RLENGTH - 8); print name }' shared/domain/src/email/tests.rs)
if [[ ${#properties[@]} -eq 0 ]]; then
    echo "fuzz-email: no property tests found in shared/domain/src/email/tests.rs" >&2
    exit 2
fi
filters=()
for p in "${properties[@]}"; do filters+=("email::tests::$p"); done

# Build outside the time budget.
cargo test -p omnidesk-domain --lib --no-run --quiet

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "fuzz-email: ${#properties[@]} properties × $cases cases, at most ${budget} s"
started=$(date +%s%N)
set +e
PROPTEST_CASES="$cases" timeout --signal=TERM --kill-after=10 "$budget" \
    cargo test -p omnidesk-domain --lib -- --exact --test-threads=2 "${filters[@]}" >"$log" 2>&1
status=$?
set -e
elapsed_ms=$((($(date +%s%N) - started) / 1000000))

passed=0
failed=()
unfinished=()
for p in "${properties[@]}"; do
    if grep -q "^test email::tests::$p \.\.\. ok$" "$log"; then
        passed=$((passed + 1))
    elif grep -q "^test email::tests::$p \.\.\. FAILED$" "$log"; then
        failed+=("$p")
    else
        unfinished+=("$p")
    fi
done
executions=$((passed * cases))

printf 'fuzz-email: %d of %d properties passed %d cases each: %d executions in %d.%03d s\n' \
    "$passed" "${#properties[@]}" "$cases" "$executions" $((elapsed_ms / 1000)) $((elapsed_ms % 1000))
if [[ ${#unfinished[@]} -gt 0 ]]; then
    echo "fuzz-email: out of time (${budget} s) before: ${unfinished[*]}"
fi
# 124: the budget ran out (TERM); 137: it had to be killed.
if [[ ${#failed[@]} -gt 0 ]] || [[ $status -ne 0 && $status -ne 124 && $status -ne 137 ]]; then
    echo "fuzz-email: FAILED: ${failed[*]:-see the output below}" >&2
    cat "$log" >&2
    exit 1
fi
