#!/usr/bin/env bash
# Starts moto_server (from the project venv, through scripts/moto_server.py) on a free 127.0.0.1 port for the moto test tier.
#
#   source scripts/moto.sh          # starts it; exports OMNIDESK_MOTO_ENDPOINT and MOTO_PID
#   moto_stop                       # stops it by PID (the test script traps this on exit)
#
# The server's log goes to "${OMNIDESK_CACHE:-$HOME/.cache/omnidesk}/moto.log".

_moto_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=python-env.sh
source "$_moto_root/scripts/python-env.sh" || return 1

moto_stop() {
    if [[ -n "${MOTO_PID:-}" ]] && kill -0 "$MOTO_PID" 2>/dev/null; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
    unset MOTO_PID OMNIDESK_MOTO_ENDPOINT
}

_moto_log="${OMNIDESK_CACHE:-$HOME/.cache/omnidesk}/moto.log"
_moto_port="$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# moto_server, with DynamoDB transactions isolated as in AWS (scripts/moto_server.py says why).
python "$_moto_root/scripts/moto_server.py" -H 127.0.0.1 -p "$_moto_port" >"$_moto_log" 2>&1 &
MOTO_PID=$!
export MOTO_PID
export OMNIDESK_MOTO_ENDPOINT="http://127.0.0.1:$_moto_port"

# Ready when it answers; give up after 30 s.
for _ in $(seq 1 150); do
    if curl -fs -o /dev/null "$OMNIDESK_MOTO_ENDPOINT/moto-api/"; then
        echo "moto_server ready at $OMNIDESK_MOTO_ENDPOINT (pid $MOTO_PID)" >&2
        return 0 2>/dev/null || exit 0
    fi
    if ! kill -0 "$MOTO_PID" 2>/dev/null; then
        break
    fi
    sleep 0.2
done
echo "moto_server did not start; its log:" >&2
cat "$_moto_log" >&2
moto_stop
return 1 2>/dev/null || exit 1
