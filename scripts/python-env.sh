#!/usr/bin/env bash
# Creates (once) the Python venv that holds omnidesk's Python tooling: cfn-lint, SAM CLI,
# moto_server, DuckDB/pyarrow, schemathesis (pins in scripts/requirements.txt).
#
# The venv lives outside the clone, at "${OMNIDESK_CACHE:-$HOME/.cache/omnidesk}/venv", so
# fresh clones (CI) reuse it and `git clean` does not throw away a multi-minute install. It is
# reinstalled only when requirements.txt (or the interpreter) changes: a sha256 of both is kept
# in "$venv/.omnidesk-requirements.sha256", written only after a successful install.
#
# Use it either way:
#   source scripts/python-env.sh     # the venv's bin/ goes first on PATH; OMNIDESK_VENV and
#                                    # VIRTUAL_ENV are exported; nothing is printed on stdout
#   bin="$(scripts/python-env.sh | tail -n 1)"   # executed: prints the venv's bin dir last
#
# Safe under `set -euo pipefail` in the caller. When sourced, the install runs in a separate
# bash process: bash ignores `set -e` inside anything called from an `if`/`||` context, even a
# subshell that sets it again, so an in-shell function could carry on after a failed pip.
# A failure returns (sourced) or exits (executed) non-zero. Progress goes to stderr.
#
# Knobs: OMNIDESK_CACHE (cache root), OMNIDESK_PYTHON (interpreter, default python3.11 or
# python3; must be >= 3.11), OMNIDESK_VENV_REBUILD=1 (wipe and recreate the venv).

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: build if needed (in a child process), then put the venv first on PATH, once.
    if "${BASH:-bash}" "${BASH_SOURCE[0]}" >/dev/null; then
        OMNIDESK_VENV="${OMNIDESK_CACHE:-$HOME/.cache/omnidesk}/venv"
        export OMNIDESK_VENV
        export VIRTUAL_ENV="$OMNIDESK_VENV"
        case ":${PATH:-}:" in
            *":$OMNIDESK_VENV/bin:"*) ;;
            *) export PATH="$OMNIDESK_VENV/bin${PATH:+:$PATH}" ;;
        esac
        return 0
    else
        echo "python-env: failed to prepare the Python venv" >&2
        return 1
    fi
fi

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
cache="${OMNIDESK_CACHE:-$HOME/.cache/omnidesk}"
venv="$cache/venv"
stamp="$venv/.omnidesk-requirements.sha256"

log() { printf 'python-env: %s\n' "$*" >&2; }
# The venv is usable if its interpreter runs and is the same build as the chosen one.
venv_works() {
    [[ -x "$venv/bin/python" ]] &&
        [[ "$("$venv/bin/python" -c 'import sys; print(sys.version)' 2>/dev/null)" == "$pyversion" ]]
}

[[ -f "$req" ]] || { log "missing $req"; exit 1; }

python="${OMNIDESK_PYTHON:-}"
if [[ -z "$python" ]]; then
    if command -v python3.11 >/dev/null 2>&1; then python=python3.11; else python=python3; fi
fi
command -v "$python" >/dev/null 2>&1 || { log "no Python interpreter '$python' on PATH"; exit 1; }
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
    || { log "$python is $("$python" -V 2>&1); need Python >= 3.11 (schemathesis)"; exit 1; }

# The stamp covers the requirements and the exact interpreter build, so a Python upgrade
# also triggers a rebuild.
pyversion="$("$python" -c 'import sys; print(sys.version)')"
want="$( { cat "$req"; printf '%s\n' "$pyversion"; } | sha256sum | cut -d' ' -f1)"

mkdir -p "$cache"
# Two scripts (say the lint and the moto tier) may start at once: one installs, the other
# waits for it and then finds the stamp up to date.
exec 9>"$cache/venv.lock"
if command -v flock >/dev/null 2>&1; then
    flock 9
fi

rebuild="${OMNIDESK_VENV_REBUILD:-0}"
if [[ "$rebuild" != "1" && -f "$stamp" ]] && venv_works && [[ "$(cat "$stamp")" == "$want" ]]; then
    printf '%s\n' "$venv/bin"   # up to date: nothing to install
    exit 0
fi

start=$SECONDS
if [[ "$rebuild" == "1" ]] || ! venv_works; then
    log "creating venv at $venv with $("$python" -V 2>&1)"
    rm -rf "$venv"
    "$python" -m venv "$venv"
else
    log "requirements changed: updating venv at $venv"
fi
rm -f "$stamp"

log "installing $req (a cold install takes a few minutes)"
"$venv/bin/python" -m pip install \
    --disable-pip-version-check --no-input --progress-bar off --quiet \
    -r "$req" >&2

# Fail here, not later in some test, if the pins do not fit together.
"$venv/bin/python" -m pip check >&2 || { log "pip check: conflicting requirements"; exit 1; }

printf '%s\n' "$want" >"$stamp.tmp"
mv "$stamp.tmp" "$stamp"
log "venv ready in $((SECONDS - start)) s"
printf '%s\n' "$venv/bin"
