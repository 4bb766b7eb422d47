"""moto_server with each DynamoDB table's requests taken one at a time.

DynamoDB runs a transaction in isolation: a TransactWriteItems that fails its conditions
changes nothing, and no other write is lost. moto's threaded server does not: a failing
transaction restores a copy of its tables taken when it began, which silently undoes any
write another thread made to them in between (two SLA sweeps racing on one ticket then both
"win"). One lock per table, held around every request that names it, gives the tests the
isolation the real service has; requests to other tables (each test desk has its own) and
to the other services (SQS long polls among them) stay concurrent.

    python scripts/moto_server.py -H 127.0.0.1 -p PORT    # the moto_server arguments
"""

import json
import sys
import threading
from contextlib import ExitStack

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_registry = threading.Lock()
_table_locks: dict[str, threading.Lock] = {}
_call_action = DynamoHandler.call_action


def _lock_of(table: str) -> threading.Lock:
    with _registry:
        return _table_locks.setdefault(table, threading.Lock())


def _tables_named(body) -> list[str]:
    """The tables a DynamoDB request names, sorted (locks are taken in this order)."""
    try:
        request = json.loads(body or "{}")
    except ValueError:
        return []
    if not isinstance(request, dict):
        return []
    names = set()
    if isinstance(request.get("TableName"), str):
        names.add(request["TableName"])
    if isinstance(request.get("RequestItems"), dict):
        names.update(request["RequestItems"])
    for item in request.get("TransactItems") or []:
        for operation in item.values() if isinstance(item, dict) else []:
            if isinstance(operation, dict) and isinstance(operation.get("TableName"), str):
                names.add(operation["TableName"])
    return sorted(names)


def _call_action_isolated(self):
    with ExitStack() as held:
        for table in _tables_named(self.body):
            held.enter_context(_lock_of(table))
        return _call_action(self)


DynamoHandler.call_action = _call_action_isolated

if __name__ == "__main__":
    main(sys.argv[1:])
