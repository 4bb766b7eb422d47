"""moto_server with DynamoDB requests taken one at a time.

DynamoDB runs a transaction in isolation: a TransactWriteItems that fails its conditions
changes nothing, and no other write is lost. moto's threaded server does not: a failing
transaction restores a copy of the whole table taken when it began, which silently undoes
any write another thread made in between (two SLA sweeps racing on one ticket then both
"win"). Holding one lock around every DynamoDB request gives the tests the isolation the
real service has; the other services (SQS long polls among them) stay concurrent.

    python scripts/moto_server.py -H 127.0.0.1 -p PORT    # the moto_server arguments
"""

import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_dynamodb = threading.Lock()
_call_action = DynamoHandler.call_action


def _call_action_alone(self):
    with _dynamodb:
        return _call_action(self)


DynamoHandler.call_action = _call_action_alone

if __name__ == "__main__":
    main(sys.argv[1:])
