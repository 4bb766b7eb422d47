#!/usr/bin/env bash
# Contract test of the agent API: runs schemathesis with openapi.yaml against the real local
# desk and fails on any 5xx or any answer the schema does not describe (status code, content
# type, body, or a field the schema does not name). Steps:
#   1. build omnidesk-local and start it in memory on a free 127.0.0.1 port, with
#      tests/fixtures/contract.toml (agents, teams, an admin bearer token);
#   2. seed tickets and customers by posting signed chat messages, and wait until the router
#      has opened the tickets;
#   3. call every changing operation once on the seeded tickets and customers (real ids and
#      versions), each answer checked against the schema;
#   4. run schemathesis (every phase, a bounded number of examples per operation, as the
#      admin so every route is reachable), then stop the desk by its PID (also on failure).
# Python and schemathesis come from the venv of scripts/python-env.sh (built if missing).
# Knobs: CONTRACT_MAX_EXAMPLES (per operation, default 25), CONTRACT_SEED (default: random;
# the run prints the seed it used), CONTRACT_TIME_LIMIT (seconds for schemathesis, default 150).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/omnidesk/target}"
# shellcheck source=python-env.sh
source scripts/python-env.sh
python="$OMNIDESK_VENV/bin/python"
st="$OMNIDESK_VENV/bin/st"
max_examples="${CONTRACT_MAX_EXAMPLES:-25}"
time_limit="${CONTRACT_TIME_LIMIT:-150}"

# The token and inbox secret of tests/fixtures/contract.toml.
token="contract-admin-token-0123456789"
inbox="web"
secret="contract-test-secret-0123456789"

# The desk binary as the test run builds it (the README replay runs it), so this is a no-op
# after the tests: `cargo build -p omnidesk-local`, or `cargo build --workspace` (no
# dev-dependencies), unifies features differently and rebuilds the AWS SDK crates (four
# minutes on two cores), and `--all-targets` links every function's binary besides.
cargo test --workspace --locked --no-run --quiet
desk_bin="$CARGO_TARGET_DIR/debug/omnidesk-local"

work="$(mktemp -d)"
desk_pid=""
stop_desk() {
    if [[ -n "$desk_pid" ]] && kill -0 "$desk_pid" 2>/dev/null; then
        kill "$desk_pid" 2>/dev/null || true
        wait "$desk_pid" 2>/dev/null || true
    fi
    desk_pid=""
    rm -rf "$work"
}
trap stop_desk EXIT

# The spec the test holds the desk to: openapi.yaml with every object closed
# (additionalProperties: false), so a field the desk sends but the spec does not name fails
# the run. The published file stays open, as clients should ignore fields they do not know.
spec="$work/openapi.strict.json"
SPEC_IN="$root/openapi.yaml" SPEC_OUT="$spec" "$python" - <<'PY'
import json, os, yaml

spec = yaml.safe_load(open(os.environ["SPEC_IN"]))
schemas = spec["components"]["schemas"]

# TicketEvent is allOf [common fields, EventKind]: closing either part alone would refuse the
# other's fields, so close one merged schema per kind of event instead.
common, kinds = schemas["TicketEvent"]["allOf"]
assert kinds == {"$ref": "#/components/schemas/EventKind"}
variants = []
for kind in schemas["EventKind"]["oneOf"]:
    variants.append({
        "title": kind["title"],
        "type": "object",
        "required": sorted(set(common["required"]) | set(kind["required"])),
        "properties": {**common["properties"], **kind["properties"]},
    })
schemas["TicketEvent"] = {"description": schemas["TicketEvent"]["description"], "oneOf": variants}

def close(node):
    if isinstance(node, dict):
        if "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            close(value)
    elif isinstance(node, list):
        for value in node:
            close(value)

close(spec["components"])
json.dump(spec, open(os.environ["SPEC_OUT"], "w"), indent=1)
PY
port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
sed "s#127.0.0.1:3000#127.0.0.1:$port#g" tests/fixtures/contract.toml >"$work/contract.toml"

"$desk_bin" --config "$work/contract.toml" --port "$port" \
    --mail-in "$work/mail-in" --outbox "$work/outbox" >"$work/desk.log" 2>&1 &
desk_pid=$!
echo "contract-test: omnidesk-local (pid $desk_pid) on $base"

# Waits for the desk, seeds it, and waits until the router has opened every ticket.
BASE="$base" TOKEN="$token" INBOX="$inbox" SECRET="$secret" "$python" - <<'PY' || { tail -n 20 "$work/desk.log" >&2; exit 1; }
import hashlib, hmac, json, os, sys, time, urllib.error, urllib.request

base, token, inbox, secret = (os.environ[k] for k in ("BASE", "TOKEN", "INBOX", "SECRET"))

def call(method, path, body=None, headers=None):
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")

def api(path):
    return call("GET", path, headers={"Authorization": f"Bearer {token}"})

deadline = time.monotonic() + 30
while True:
    try:
        if api("/v1/me")[0] == 200:
            break
    except (urllib.error.URLError, ConnectionError):
        pass
    if time.monotonic() > deadline:
        sys.exit("contract-test: the desk did not answer within 30 s")
    time.sleep(0.1)

messages = [
    ("v-1", "Li Wei", {"email": "li.wei@example.com", "phone": "138 0013 8000"}, "Where is my order?"),
    ("v-2", "Ann", {"email": "ann@example.com"}, "I want a refund for order 7"),
    ("v-3", "Bo", {}, "The app shows an error and crashes"),
    ("v-4", "Chen", {"phone": "+1 650 253 0000"}, "Can I change my delivery address?"),
    # On the unverified widget: Li's address, typed by someone else, stays a hint.
    ("v-5", "Li?", {"email": "li.wei@example.com"}, "Show me my orders", "widget"),
]
for i, (visitor, name, contact, text, *box) in enumerate(messages, 1):
    body = json.dumps({
        "message_id": f"seed-{i}",
        "conversation_id": f"conv-{i}",
        "visitor": {"id": visitor, "name": name, **contact},
        "text": text,
    }).encode()
    at = int(time.time())
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    status, answer = call("POST", f"/v1/chat/{box[0] if box else inbox}/messages", body,
                          {"Content-Type": "application/json", "X-Omnidesk-Signature": f"t={at},v1={mac}"})
    if status != 202:
        sys.exit(f"contract-test: seeding message {i}: {status} {answer}")

deadline = time.monotonic() + 30
while True:
    opened = api("/v1/tickets?status=new&limit=100")[1]["tickets"]
    if len(opened) >= len(messages):
        break
    if time.monotonic() > deadline:
        sys.exit(f"contract-test: {len(opened)} of {len(messages)} tickets opened within 30 s")
    time.sleep(0.1)
print(f"contract-test: seeded tickets {sorted(t['number'] for t in opened)}")
PY

# The happy path of every operation that changes something, on the seeded tickets and
# customers with their real versions and ids (generated requests rarely hit those), each
# answer checked against openapi.yaml by schemathesis's own checks.
BASE="$base" TOKEN="$token" SPEC="$spec" "$python" - <<'PY' || { tail -n 20 "$work/desk.log" >&2; exit 1; }
import os, sys

import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

base, token = os.environ["BASE"], os.environ["TOKEN"]
schema = schemathesis.openapi.from_path(os.environ["SPEC"])
checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
auth = {"Authorization": f"Bearer {token}"}

def call(operation_id, expect, path=None, query=None, body=None, headers=None):
    with_body = {} if body is None else {"body": body}
    case = schema.find_operation_by_id(operation_id).Case(
        path_parameters=path, query=query, headers=headers, **with_body)
    response = case.call_and_validate(base_url=base, headers=auth, checks=checks)
    if response.status_code != expect:
        sys.exit(f"contract-test: {operation_id}: expected {expect}, got {response.status_code} {response.text}")
    print(f"contract-test: {operation_id} {path or ''}{query or ''} -> {response.status_code}")
    return response.json() if response.content else None

def version(number):
    return call("viewTicket", 200, {"number": number})["ticket"]["version"]

first = call("findCustomer", 200, query={"email": "Li.Wei@Example.com"})["id"]
fourth = call("findCustomer", 200, query={"phone": "+16502530000"})["id"]
third = call("findCustomer", 200, query={"chat_inbox": "web", "chat_visitor": "v-3"})["id"]
call("viewCustomer", 200, {"id": first})
call("listTickets", 200, query={"customer": first})
typed = call("findCustomer", 200, query={"chat_inbox": "widget", "chat_visitor": "v-5"})["id"]
if typed == first or call("viewCustomer", 200, {"id": typed})["merge_candidates"][0]["customer"] != first:
    sys.exit("contract-test: a typed address linked its owner, or its owner is no merge candidate")

patched = call("patchTicket", 200, {"number": 1},
               body={"version": version(1), "status": "open", "priority": "high",
                     "tags": ["vip", "order"], "category": "shipping"})
key = {"Idempotency-Key": "contract-reply-1"}
reply = call("replyToTicket", 201, {"number": 1},
             body={"text": "Your parcel left the warehouse today.", "version": patched["version"]}, headers=key)
again = call("replyToTicket", 201, {"number": 1}, body={"text": "Your parcel left the warehouse today."}, headers=key)
if again != reply:
    sys.exit(f"contract-test: a repeated Idempotency-Key answered {again}, not {reply}")
call("patchTicket", 409, {"number": 1}, body={"version": patched["version"], "priority": "low"})
call("replyToTicket", 422, {"number": 1}, body={"text": "Another text under the same key."}, headers=key)
call("addNote", 201, {"number": 1}, body={"text": "Customer is a VIP."})
call("assignTicket", 200, {"number": 3}, body={"agent": "li", "version": version(3)})
call("patchTicket", 200, {"number": 2}, body={"version": version(2), "cc": ["Wang.Fang@example.com"]})
asked = call("requestCallback", 202, {"number": 2}, body={"version": version(2)})
call("requestCallback", 409, {"number": 2}, body={"version": asked["version"] - 1})
call("viewTicket", 200, {"number": 2})
call("mergeTicket", 409, {"number": 4}, body={"into": 2})
call("mergeTicket", 200, {"number": 4}, body={"into": 2, "across_customers": True})
call("setPresence", 200, body={"presence": "online"})
canned = call("createCannedResponse", 201, body={"title": "Parcel on its way", "text": "Hello {customer_name}, {ticket} ships today."})
call("listCannedResponses", 200)
edit = {"title": "Parcel shipped", "text": "It left today.", "version": canned["version"]}
changed = call("updateCannedResponse", 200, {"id": canned["id"]}, body=edit)
call("updateCannedResponse", 409, {"id": canned["id"]}, body=edit)
call("deleteCannedResponse", 204, {"id": canned["id"]}, query={"version": changed["version"]})
call("listTickets", 200, query={"view": "mine"})
call("mergeCustomer", 200, {"id": fourth}, body={"into": first})
call("exportCustomer", 200, {"id": first})
job = call("eraseCustomer", 202, {"id": third})
# The erasure runs as a job, off the request: read its status until it ends.
import time
deadline = time.monotonic() + 30
while job["status"] not in ("done", "failed"):
    if time.monotonic() > deadline:
        sys.exit(f"contract-test: erasure job never finished: {job}")
    time.sleep(0.1)
    job = call("erasureJob", 200, {"id": third, "job": job["id"]})
if job["status"] != "done":
    sys.exit(f"contract-test: erasure job ended {job['status']}: {job}")
call("viewTicket", 200, {"number": 3})
PY

# The chat webhook is in the spec for its clients, but not fuzzed here: without the inbox
# secret every generated request is a 401, which proves nothing, and its deep request schema
# once tripped an internal error of schemathesis' coverage phase (a flaky run, not a finding).
# The end-to-end scenarios hold it to its contract (202, 400 naming the field, 401, 413, 429).
# The survey pages likewise: public HTML behind signed links, held to their contract by the
# survey scenarios and a bounded fuzz test of tokens and form bodies.
# Schemathesis writes its caches in the working directory: keep them out of the clone.
cd "$work"
started=$SECONDS
status=0
timeout --signal=INT --kill-after=10 "$time_limit" \
    "$st" --no-color run "$spec" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing,stateful \
    --exclude-operation-id postChatMessage \
    --exclude-tag surveys \
    --max-examples "$max_examples" \
    ${CONTRACT_SEED:+--seed "$CONTRACT_SEED"} \
    --workers 2 \
    --request-timeout 10 \
    --generation-database none \
    --suppress-health-check all \
    --warnings off \
    || status=$?
echo "contract-test: schemathesis took $((SECONDS - started)) s (exit $status)"
if [[ $status -ne 0 ]]; then
    if [[ $status -eq 124 ]]; then
        echo "contract-test: schemathesis ran over ${time_limit} s" >&2
    fi
    echo "--- desk log (last 40 lines)" >&2
    tail -n 40 "$work/desk.log" >&2
fi
exit "$status"
