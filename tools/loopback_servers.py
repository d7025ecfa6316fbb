"""Servers the Python test suites and the benchmarks start on loopback: free ports; the
OpenTelemetry collector (rotel, from PyPI), started one way for all of them, and what it received,
read from its debug output; and Jaeger (the real one, built from its Go module by
tools/jaeger/build.sh) with its query API.

Used by the root conftest.py's fixtures, the notebook tests' own, and sample-service/bench/."""

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


def rotel_agent():
    """The collector's binary: ROTEL_AGENT when `./lab test` set it, else the one the rotel
    package ships (requirements-test.txt)."""
    if os.environ.get("ROTEL_AGENT"):
        return os.environ["ROTEL_AGENT"]
    try:
        import rotel  # here, not at the top: only this fallback needs the package
    except ImportError:
        raise RuntimeError(
            "the rotel collector is not installed: pip install -r requirements-test.txt (./lab test does), "
            "or set ROTEL_AGENT to its rotel-agent"
        ) from None
    return str(Path(rotel.__file__).parent / "rotel-agent")


def collector_command(grpc_port, http_port, *, forward_to=None, detail="detailed"):
    """(argv, environment) of a collector that takes OTLP on the loopback ports `grpc_port` and
    `http_port` and writes what it receives to its output: with `detail="detailed"`, every span
    and log record, field by field (what `received` reads); with `detail="basic"`, one JSON line
    per batch with its count (what `spans_counted` reads, cheap enough under full load). The spans
    are forwarded to the OTLP gRPC endpoint `forward_to` when given (log records stay: Jaeger
    takes spans only), else dropped."""
    argv = [
        rotel_agent(),
        "start",
        "--otlp-grpc-endpoint",
        f"127.0.0.1:{grpc_port}",
        "--otlp-http-endpoint",
        f"127.0.0.1:{http_port}",
    ]
    env = dict(os.environ)
    if forward_to:
        argv += ["--exporters", "forward:otlp,drop:blackhole", "--exporters-traces", "forward"]
        argv += ["--exporters-logs", "drop", "--exporters-metrics", "drop"]
        env["ROTEL_EXPORTER_FORWARD_ENDPOINT"] = forward_to
    else:
        argv += ["--exporter", "blackhole"]
    if detail == "detailed":
        argv += ["--debug-log", "traces", "--debug-log", "logs", "--debug-log-verbosity", "detailed"]
    else:
        argv += ["--debug-log", "traces", "--debug-log-verbosity", "basic", "--log-format", "json"]
    return argv, env


def received(log_path):
    """The spans and log records in a detailed collector's output (the OpenTelemetry Collector's
    debug format: `Span #N` and `LogRecord #N` blocks), each as a dict of its fields: `Trace ID`,
    `Parent ID`, `ID`, `Name` for a span; `Trace ID`, `Span ID`, `Body` for a log record."""
    spans, logs, current = [], [], None
    for line in Path(log_path).read_text().splitlines():
        text = line.strip()
        if text.startswith("Span #"):
            current = {}
            spans.append(current)
        elif text.startswith("LogRecord #"):
            current = {}
            logs.append(current)
        elif text.startswith(("ResourceSpans #", "ResourceLog #", "ScopeSpans #", "ScopeLogs #")):
            current = None
        elif current is not None and not text.startswith("->") and ":" in text:
            field, _, value = text.partition(":")
            current.setdefault(field.strip(), value.strip())
    return spans, logs


def wait_for_received(log_path, found, timeout=15):
    """`received(log_path)` once `found(spans, logs)` is true, or after `timeout` seconds: the
    senders' batch processors send every few seconds."""
    deadline = time.monotonic() + timeout
    while True:
        spans, logs = received(log_path)
        if found(spans, logs) or time.monotonic() > deadline:
            return spans, logs
        time.sleep(0.5)


def spans_counted(log_path):
    """How many spans a basic collector's output says it received."""
    total = 0
    for line in Path(log_path).read_text().splitlines():
        if '"Received traces.' in line:
            total += json.loads(line).get("spans", 0)
    return total


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
