"""Cold start of each function against init-hello (see scripts/bench-init.sh).

Usage: measure.py RELEASE_DIR STARTS [ENDPOINT]

Each start: the process is spawned with a Lambda-like environment and its Runtime API at a
local socket; the time runs from just before the spawn to the moment the request line of
its first `GET /2018-06-01/runtime/invocation/next` has arrived. The request is never
answered; the process is killed and the next start begins, and its CPU time (user + system,
from wait4) is noted: the work of the start itself, without the waits. A function that
reports an init error (`POST .../runtime/init/error`) or exits stops the run with its
output.

What a function reads at start (the configuration object from S3, the inbox secret from
Secrets Manager) comes from ENDPOINT if given (moto: the real services' wire formats, at
moto's speed), else from a canned endpoint in this process that answers those two calls at
once, so that the figure is the function's own start, not an emulator's latency.
"""

import os
import signal
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import http.server
import json

ROOT = Path(__file__).resolve().parents[2]
NEXT = "/2018-06-01/runtime/invocation/next"
INIT_ERROR = "/2018-06-01/runtime/init/error"
BUCKET = "omnidesk-bench-init-config"
KEY = "omnidesk.toml"
SECRET_NAME = "omnidesk/chat/web"
BASELINE = "init-hello"
# The configuration's secret fields: on AWS each must be an `sm:` reference.
SECRET_FIELDS = (
    "secret", "next_secret", "token_secret", "previous_token_secret", "pseudonym_key", "token",
    "encoding_aes_key", "app_secret", "verify_token", "page_token", "whatsapp_token",
    "webhook_secret", "api_key", "link_key",
)


class RuntimeApi:
    """A socket that notes when the first request for an event (or an init error) arrives."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.address = "127.0.0.1:%d" % self.listener.getsockname()[1]
        self.arrived = threading.Event()
        self.at = None
        self.error = None
        self.connections = []
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self):
        for connection in self.connections:
            connection.close()
        self.connections = []
        self.at = None
        self.error = None
        self.arrived.clear()

    def _accept(self):
        while True:
            connection, _ = self.listener.accept()
            self.connections.append(connection)
            threading.Thread(target=self._read, args=(connection,), daemon=True).start()

    def _read(self, connection):
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = connection.recv(4096)
                if not chunk:
                    return
                data += chunk
        except OSError:
            return
        now = time.perf_counter_ns()
        request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split(" ")
        path = parts[1] if len(parts) > 1 else ""
        if path.startswith(NEXT) and self.at is None:
            self.at = now
            self.arrived.set()
        elif path.startswith(INIT_ERROR):
            try:
                connection.settimeout(1)
                data += connection.recv(65536)
            except OSError:
                pass
            self.error = data.decode("utf-8", "replace")
            self.arrived.set()


def deployable_config():
    """The example desk, as it would be pushed to AWS: the inbox and survey secrets references, public
    callback and survey URLs, no local section and no local bearer tokens."""
    text = (ROOT / "infra/local/omnidesk.example.toml").read_text()
    kept, skipping = [], False
    for line in text.splitlines():
        header = re.match(r"^\[\[?([a-z_.0-9]+)\]\]?\s*$", line)
        if header:
            skipping = header.group(1) in ("local", "auth", "auth.tokens")
        if not skipping:
            kept.append(line)
    text = "\n".join(kept) + "\n"
    # Every secret of every section becomes a reference (a function resolves only those it
    # uses; the canned endpoint answers one value for any name).
    text = re.sub(r'(?m)^(%s) = ".*"$' % "|".join(SECRET_FIELDS), r'\1 = "sm:%s"' % SECRET_NAME, text)
    # The local desk's own URLs (callbacks, fakes of the providers) become public ones.
    text = re.sub(r'"http://(127\.0\.0\.1|localhost)(:\d+)?', '"https://desk.example', text)
    return text


SECRET_VALUE = secrets.token_hex(32)


def seed(endpoint, config):
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    s3 = session.client("s3", endpoint_url=endpoint)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=config.encode())
    session.client("secretsmanager", endpoint_url=endpoint).create_secret(Name=SECRET_NAME, SecretString=SECRET_VALUE)


class Canned(http.server.BaseHTTPRequestHandler):
    """S3 GetObject of the configuration and Secrets Manager GetSecretValue, answered at once."""

    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without this, Nagle's algorithm holds the
    # body until the client's delayed ACK (40 ms on Linux).
    disable_nagle_algorithm = True
    config = b""

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.split("?")[0] == "/%s/%s" % (BUCKET, KEY):
            self.answer(200, self.config, "application/octet-stream")
        else:
            self.answer(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        if self.headers.get("X-Amz-Target", "").endswith("GetSecretValue"):
            body = {"ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + SECRET_NAME,
                    "Name": request.get("SecretId"), "SecretString": SECRET_VALUE, "VersionId": "v1"}
            self.answer(200, json.dumps(body).encode(), "application/x-amz-json-1.1")
        else:
            self.answer(400, b'{"__type":"UnknownOperationException"}', "application/x-amz-json-1.1")


def canned_endpoint(config):
    Canned.config = config.encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Canned)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % server.server_address[1]


def environment(endpoint, runtime_api, name):
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "RUST_LOG": "info",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/" + name,
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "OMNIDESK_CONFIG_BUCKET": BUCKET,
        "OMNIDESK_CONFIG_KEY": KEY,
        "TABLE_NAME": "omnidesk-bench-table",
        "INBOUND_QUEUE_URL": endpoint + "/123456789012/inbound",
        "OUTBOUND_QUEUE_URL": endpoint + "/123456789012/outbound",
        "BLOB_BUCKET": "omnidesk-bench-mail",
    }


def start_once(api, binary, env, log):
    """(milliseconds to the first request for an event, CPU milliseconds until then)."""
    api.reset()
    started = time.perf_counter_ns()
    process = subprocess.Popen([str(binary)], env=env, stdout=log, stderr=log)
    arrived = api.arrived.wait(30)
    # wait4 reaps the child itself (Popen.kill would reap one that already exited, and its
    # resource usage with it): a function that stopped at start is reported with its log.
    os.kill(process.pid, signal.SIGKILL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = -9
    if not arrived and os.WIFEXITED(status):
        log.seek(0)
        raise SystemExit("%s exited at start (%d):\n%s" % (binary.name, os.WEXITSTATUS(status), log.read().decode()[-4000:]))
    if not arrived or api.error is not None or api.at is None:
        log.seek(0)
        raise SystemExit(
            "%s did not ask for an event: %s\n%s" % (binary.name, api.error or "timeout", log.read().decode()[-4000:])
        )
    return (api.at - started) / 1e6, (usage.ru_utime + usage.ru_stime) * 1e3


def main():
    release, starts = Path(sys.argv[1]), int(sys.argv[2])
    config = deployable_config()
    if len(sys.argv) > 3:
        endpoint, served = sys.argv[3], "moto at " + sys.argv[3]
        seed(endpoint, config)
    else:
        endpoint, served = canned_endpoint(config), "a canned local endpoint"
    names = [BASELINE] + sorted(p.name for p in (ROOT / "functions").iterdir() if (release / p.name).is_file())
    api = RuntimeApi()
    print(
        "bench-init: %d starts each; configuration (%d bytes) and secret from %s; %s; load average %s"
        % (starts, len(config), served, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "%.2f %.2f %.2f" % os.getloadavg())
    )
    results = {}
    with tempfile.TemporaryFile() as log:
        for name in names:
            binary = release / name
            env = environment(endpoint, api.address, name)
            start_once(api, binary, env, log)  # warm the page cache; not counted
            results[name] = [start_once(api, binary, env, log) for _ in range(starts)]
            log.seek(0)
            log.truncate()
    hello = statistics.median(t for t, _ in results[BASELINE])
    hello_cpu = statistics.median(c for _, c in results[BASELINE])
    print("%-22s %8s %8s %8s %8s %8s %8s %8s" % ("binary", "MB", "p50 ms", "min ms", "max ms", "× hello", "CPU ms", "× hello"))
    for name in names:
        times = [t for t, _ in results[name]]
        cpu = statistics.median(c for _, c in results[name])
        p50 = statistics.median(times)
        size = (release / name).stat().st_size / 1e6
        print("%-22s %8.1f %8.2f %8.2f %8.2f %8.2f %8.2f %8.2f" % (name, size, p50, min(times), max(times), p50 / hello, cpu, cpu / hello_cpu))


if __name__ == "__main__":
    main()
