"""What both benchmarks share: the processes they start (and kill on exit), the ports, the cores,
the collector (rotel, from PyPI) and the service's release binary.

bench.py (wall clock) and instructions.py (callgrind) import it; it is not run on its own.
"""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

from loopback_servers import collector_command, spans_counted  # noqa: E402 (found on the path set above)

TARGET_DIR = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BINARY = TARGET_DIR / "release" / "sample-service"
SERVICE_PORT = 25_100
GRPC_PORT = 25_117
HTTP_PORT = 25_118
SERVICE_CPU = "0"
LOAD_CPU = "1"


STARTED = []  # every process this script started, killed on exit whatever happens


def kill_started():
    for process in STARTED:
        if process.poll() is None:
            process.kill()
            process.wait()


atexit.register(kill_started)


def start(argv, **kwargs):
    process = subprocess.Popen(argv, **kwargs)
    STARTED.append(process)
    return process


def fail(message):
    print(f"{Path(sys.argv[0]).stem}: error: {message}", file=sys.stderr)
    sys.exit(1)


def need(tool, how):
    if shutil.which(tool) is None:
        fail(f"{tool} is not installed: {how}")


def pinned(cpu, argv):
    # With fewer than 2 cores there is nothing to pin to: run unpinned and say so in the output.
    return (["taskset", "-c", cpu] if os.cpu_count() >= 2 else []) + argv


def ensure_port_free(port):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            fail(f"127.0.0.1:{port} is already in use: stop whatever listens there (an earlier run?)")


def wait_for_port(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    fail(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


class Collector:
    """rotel on loopback, logging one JSON line per batch it receives."""

    def __init__(self, workdir):
        self.log_path = Path(workdir) / "collector.log"
        self.log = open(self.log_path, "w")
        ensure_port_free(GRPC_PORT)
        ensure_port_free(HTTP_PORT)
        argv, env = collector_command(GRPC_PORT, HTTP_PORT, detail="basic")
        self.process = start(pinned(LOAD_CPU, argv), env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(GRPC_PORT)

    def spans_received(self):
        return spans_counted(self.log_path)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)
        self.log.close()


class Service:
    """The service's release binary on SERVICE_PORT (or `command`, which must listen there too)."""

    def __init__(self, env, workdir, name, command=None):
        self.stderr_path = Path(workdir) / f"{name}.stderr"
        self.stderr = open(self.stderr_path, "w")
        self.env = {"PATH": os.environ["PATH"], "HOST": "127.0.0.1", "PORT": str(SERVICE_PORT), **env}
        ensure_port_free(SERVICE_PORT)
        self.process = start(
            pinned(SERVICE_CPU, command or [str(BINARY)]),
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr,
        )
        wait_for_port(SERVICE_PORT, timeout=60.0)
        if self.process.poll() is not None:
            fail(f"{name} exited at start:\n{self.stderr_path.read_text()}")

    def peak_rss_mb(self):
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kb = int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))
        return kb / 1024

    def stop(self):
        """SIGTERM, then the shutdown summary line's span counts (None with tracing off)."""
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=30)
        self.stderr.close()
        text = self.stderr_path.read_text()
        if code != 0:
            fail(f"the service exited with {code}:\n{text}")
        match = re.search(r"(\d+) spans ended, (\d+) delivered", text)
        return (int(match.group(1)), int(match.group(2))) if match else None


def wait_for_delivery(collector, expected, timeout=15.0):
    deadline = time.monotonic() + timeout
    while collector.spans_received() < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return collector.spans_received()
