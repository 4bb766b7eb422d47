#!/usr/bin/env bash
# Builds every Lambda function of template.yaml with `sam build`, using only what the
# project installs: SAM CLI, cargo-lambda and Zig (the `ziglang` wheel) come from the venv of
# scripts/python-env.sh, Rust from the machine's toolchain. Prints the time and each
# function's size at the end.
#
# Usage: scripts/sam-build.sh [ARCH] [extra sam build arguments, e.g. one function's id...]
#   ARCH: x86_64 (default here) or arm64 (needs the aarch64-unknown-linux-gnu Rust target,
#   which this script does not install). Deploy with the same Architecture parameter.
#
# Why the venv goes first on PATH: cargo-lambda finds Zig by running `python3 -m ziglang`,
# so the python3 it finds must be the venv's, the one with ziglang installed; a venv without
# it first on PATH fails with "Zig is not installed".
# Build output: .aws-sam/ in the clone (ignored by git); cargo's in $CARGO_TARGET_DIR
# (default ~/.cache/omnidesk/target, outside the clone, like scripts/test.sh).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
arch="${1:-x86_64}"
[[ $# -gt 0 ]] && shift
case "$arch" in
    x86_64 | arm64) ;;
    *) echo "sam-build: ARCH must be x86_64 or arm64, not $arch" >&2; exit 2 ;;
esac
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
export SAM_CLI_TELEMETRY=0

# shellcheck source=python-env.sh
source "$root/scripts/python-env.sh"
for tool in sam cargo-lambda cargo; do
    command -v "$tool" >/dev/null || { echo "sam-build: $tool not found on PATH" >&2; exit 1; }
done
python3 -m ziglang version >/dev/null 2>&1 || { echo "sam-build: python3 -m ziglang does not run (ziglang missing from the venv?)" >&2; exit 1; }
echo "sam-build: $(sam --version), $(cargo lambda --version), zig $(python3 -m ziglang version), $(cargo --version)"

start=$SECONDS
# Extra arguments first: a resource id (one function) must come before the options.
sam build "$@" --parameter-overrides "Architecture=$arch"
elapsed=$((SECONDS - start))

echo "sam-build: done in $((elapsed / 60)) min $((elapsed % 60)) s ($arch)"
# Each function's executable and its deployment zip, as Lambda would receive it.
python3 - .aws-sam/build/*/bootstrap <<'PY'
import io, os, sys, zipfile
for path in sys.argv[1:]:
    if not os.path.isfile(path):
        continue
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(path, "bootstrap")
    name = os.path.basename(os.path.dirname(path))
    print(f"sam-build: {name:<28} {os.path.getsize(path) / 1e6:6.1f} MB, zipped {len(buffer.getvalue()) / 1e6:5.1f} MB")
PY
