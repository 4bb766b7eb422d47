"""Instructions of each function's start, counted by callgrind (see scripts/bench-init.sh).

Usage: callgrind.py BUILD_DIR OUT_DIR NAME...

Wall and CPU times of a start move with the machine's load; the number of instructions a
start executes does not (within a few thousand). Each NAME in BUILD_DIR runs once under
`valgrind --tool=callgrind` with the environment and canned endpoint of measure.py; when its
first `GET …/runtime/invocation/next` arrives, the Runtime API closes the connection, so the
function stops (lambda_runtime returns the error) and callgrind writes OUT_DIR/NAME.out. The
count covers everything from the dynamic loader's first instruction to that request, plus
the few thousand instructions of the exit. Prints the total per binary and its ratio to
init-hello; `callgrind_annotate --inclusive=yes OUT_DIR/NAME.out` shows where they went
(build with the `bench-init` profile for symbols and lines).
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import measure  # noqa: E402


def instructions(out_file):
    """The total Ir of a callgrind output file."""
    for line in Path(out_file).read_text(errors="replace").splitlines():
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    raise SystemExit("%s: no totals line" % out_file)


def run(api, binary, env, out_file, log):
    api.reset()
    command = [
        "valgrind",
        "--tool=callgrind",
        "--read-inline-info=yes",
        "--callgrind-out-file=%s" % out_file,
        str(binary),
    ]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    # Under valgrind a start takes seconds; one that stops before asking is reported at once.
    waited = 0
    while not api.arrived.wait(1) and process.poll() is None and waited < 600:
        waited += 1
    if not api.arrived.is_set():
        if process.poll() is None:
            process.kill()
        process.wait()
        log.seek(0)
        raise SystemExit("%s did not ask for an event:\n%s" % (binary.name, log.read().decode()[-4000:]))
    if api.error is not None:
        process.kill()
        process.wait()
        raise SystemExit("%s reported an init error: %s" % (binary.name, api.error))
    # The function's wait for an event ends with a closed connection: it returns its error
    # and exits, and callgrind writes its counts.
    api.reset()
    process.wait(600)
    return instructions(out_file)


def main():
    build, out, names = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    out.mkdir(parents=True, exist_ok=True)
    endpoint = measure.canned_endpoint(measure.deployable_config())
    api = measure.RuntimeApi()
    names = [measure.BASELINE] + [n for n in names if n != measure.BASELINE]
    counts = {}
    with tempfile.TemporaryFile() as log:
        for name in names:
            env = measure.environment(endpoint, api.address, name)
            counts[name] = run(api, build / name, env, out / ("%s.out" % name), log)
            log.seek(0)
            log.truncate()
    hello = counts[measure.BASELINE]
    print("%-22s %14s %8s" % ("binary", "instructions", "× hello"))
    for name in names:
        print("%-22s %14s %8.2f" % (name, "{:,}".format(counts[name]), counts[name] / hello))


if __name__ == "__main__":
    main()
