"""Servers the Python test suites start on loopback, on ports of their choosing: free ports, and
Jaeger (the real one, built from its Go module by tools/jaeger/build.sh) with its query API.

Used by the root conftest.py's fixtures and by the notebook tests' own."""

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
JAEGER_CONFIG = TOOLS / "jaeger" / "test-config.yaml"

_next_port = 21000 + os.getpid() % 500 * 10


def free_port():
    """A loopback port below 32768 that nothing listens on (above it, a client socket in TIME-WAIT
    can hold the port), never the same one twice in a run."""
    global _next_port
    for port in range(_next_port, 32000):
        _next_port = port + 1
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise RuntimeError("no free port")


def wait_for_port(port, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


def cargo_binary(package, repository=TOOLS.parent):
    """The path of `package`'s binary, built by cargo (in debug, as `cargo test` builds it)."""
    build = subprocess.run(
        ["cargo", "build", "--quiet", "-p", package, "--message-format=json"],
        cwd=repository,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert build.returncode == 0, f"cargo build -p {package} failed:\n{build.stderr}"
    return next(
        message["executable"]
        for message in map(json.loads, build.stdout.splitlines())
        if message.get("reason") == "compiler-artifact"
        and message.get("executable")
        and message["target"]["name"] == package
    )


def stop(process, grace=15):
    """SIGTERM, then SIGKILL if `process` is still there after `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def jaeger_binary():
    """The Jaeger binary: JAEGER_BIN when `./lab test` set it, else what tools/jaeger/build.sh
    builds (or finds already built: it prints the path in a moment then)."""
    if os.environ.get("JAEGER_BIN"):
        return os.environ["JAEGER_BIN"]
    built = subprocess.run([str(TOOLS / "jaeger" / "build.sh")], stdout=subprocess.PIPE, text=True, timeout=3600)
    assert built.returncode == 0, "tools/jaeger/build.sh failed (its messages are above)"
    return built.stdout.strip().splitlines()[-1]


def get_json(url, timeout=5):
    """(status, parsed body) of `GET url`; the body is None when it is not JSON."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, None


@contextlib.contextmanager
def running_jaeger(directory, max_traces=20000):
    """Jaeger with tools/jaeger/test-config.yaml (memory storage of at most `max_traces` traces,
    every port on loopback), its log in `directory`/jaeger.log. Yields its addresses: `otlp_grpc`
    and `otlp_http` (where spans go), `query` (its query API and UI), `health` (its /status), and
    `log`. Started, it is healthy; stopped, it is gone."""
    ports = {
        name: free_port()
        for name in ["JAEGER_OTLP_GRPC", "JAEGER_OTLP_HTTP", "JAEGER_QUERY_HTTP", "JAEGER_QUERY_GRPC", "JAEGER_HEALTH"]
    }
    env = {**os.environ, **{name: str(port) for name, port in ports.items()}, "JAEGER_MAX_TRACES": str(max_traces)}
    # What Jaeger's own SDK would read: it must not send its spans anywhere.
    for variable in [name for name in env if name.startswith("OTEL_")]:
        del env[variable]
    log_path = Path(directory) / "jaeger.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [jaeger_binary(), "--config", str(JAEGER_CONFIG)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    health = f"http://127.0.0.1:{ports['JAEGER_HEALTH']}/status"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"Jaeger stopped at start:\n{log_path.read_text()[-3000:]}"
            try:
                if get_json(health, timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"Jaeger not healthy after 30 s:\n{log_path.read_text()[-3000:]}"
            time.sleep(0.1)
        yield {
            "otlp_grpc": f"http://127.0.0.1:{ports['JAEGER_OTLP_GRPC']}",
            "otlp_http": f"http://127.0.0.1:{ports['JAEGER_OTLP_HTTP']}",
            "query": f"http://127.0.0.1:{ports['JAEGER_QUERY_HTTP']}",
            "health": health,
            "log": log_path,
            "process": process,
        }
    finally:
        stop(process)
        log.close()


def wait_for_trace(query, trace_id, ready=lambda spans: bool(spans), timeout=20):
    """The spans of `trace_id` in Jaeger's answer to `GET /api/v3/traces/{trace_id}` (OTLP JSON,
    flattened: each span a dict with its resource's `service.name` as `service`), asked again
    until `ready(spans)` or `timeout`; the last spans seen either way."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = get_json(f"{query}/api/v3/traces/{trace_id}")
        spans = []
        if status == 200 and body:
            for resource_spans in body["result"]["resourceSpans"]:
                attributes = {a["key"]: a["value"] for a in resource_spans["resource"].get("attributes", [])}
                service = attributes.get("service.name", {}).get("stringValue")
                for scope_spans in resource_spans.get("scopeSpans", []):
                    spans += [{**span, "service": service} for span in scope_spans.get("spans", [])]
        if ready(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.25)
