"""Runs the lab's notebooks headless on the real Rust kernel (evcxr), as "Run All" would, and checks
what they print and draw.

A notebook fails when a cell reports an error or a panic. Exercise 02 exports to a real
OpenTelemetry collector (rotel, the one the service's tests use). Run with `./lab test`, which sets
up the kernel first (kernel-setup/setup.sh).
"""

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = Path(__file__).resolve().parent
CELL_TIMEOUT_S = 900  # a cold `:dep` cell compiles for minutes; a warm one in seconds


class NotebookFailed(Exception):
    pass


def run_notebook(name, edit=None):
    """Executes notebook `name` from the notebooks folder; returns it with its outputs."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    if edit:
        edit(notebook)
    client = NotebookClient(
        notebook,
        kernel_name="rust",
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    try:
        client.execute()
    except CellExecutionError as error:
        raise NotebookFailed(f"{name}: a cell failed:\n{error}") from error
    panics = [text for text in streams(notebook) if "panicked at" in text]
    if panics:
        raise NotebookFailed(f"{name}: a cell panicked:\n{panics[0]}")
    return notebook


def streams(notebook):
    """What the cells printed and showed as text: `println!` lines and `tracelab::show` values."""
    texts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                texts.append(output.get("text", ""))
            elif "text/plain" in output.get("data", {}):
                texts.append(output["data"]["text/plain"].rstrip("\n") + "\n")
    return texts


def stdout(notebook):
    return "".join(streams(notebook))


def html_outputs(notebook):
    return [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]


_next_port = 21000 + os.getpid() % 500 * 10


def free_port():
    """A loopback port below 32768 that nothing listens on (see FACTS.md on TIME-WAIT), never the
    same one twice in a run."""
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


@pytest.fixture
def collector(tmp_path):
    """A real OpenTelemetry collector on loopback that logs every span it receives."""
    agent = os.environ.get("ROTEL_AGENT")
    if not agent:
        import rotel  # installed by ./lab test from requirements-test.txt

        agent = str(Path(rotel.__file__).parent / "rotel-agent")
    grpc, http = free_port(), free_port()
    log = open(tmp_path / "collector.log", "w")
    process = subprocess.Popen(
        [agent, "start", "--otlp-grpc-endpoint", f"127.0.0.1:{grpc}", "--otlp-http-endpoint", f"127.0.0.1:{http}",
         "--exporter", "blackhole", "--debug-log", "traces", "--debug-log-verbosity", "detailed"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port(http)
        yield {"endpoint": f"http://127.0.0.1:{http}", "log": tmp_path / "collector.log"}
    finally:
        process.kill()
        process.wait()
        log.close()


def test_01_prints_nested_spans_draws_them_and_passes_its_check():
    notebook = run_notebook("01-nested-spans-to-stdout.ipynb")
    out = stdout(notebook)
    assert "SRE and DevOps work together!!!" in out
    # The STDOUT exporter printed both spans, the inner one first (it ends first).
    assert out.index("test_span_02") < out.index("test_span_01"), out
    # The id table: both spans in one trace, the inner one's parent is the outer one.
    matches = re.findall(r"^(test_span_0[12])\s+trace (\w{32})\s+span (\w{16})\s+parent (\w{16})$", out, re.M)
    rows = {name: (trace, span, parent) for name, trace, span, parent in matches}
    assert set(rows) == {"test_span_01", "test_span_02"}, out
    assert rows["test_span_01"][0] == rows["test_span_02"][0]
    assert rows["test_span_02"][2] == rows["test_span_01"][1]
    pictures = [html for html in html_outputs(notebook) if "tracelab-waterfall" in html]
    assert len(pictures) == 1 and "test_span_01" in pictures[0] and "test_span_02" in pictures[0]
    assert "All 6 checks passed." in out


def test_a_failing_check_fails_the_notebook():
    def expect_three_spans(notebook):
        check_cell = next(c for c in notebook.cells if "Checklist::new" in c.source)
        check_cell.source = check_cell.source.replace("check::count(&captured, 2)", "check::count(&captured, 3)")

    with pytest.raises(NotebookFailed, match="2 spans were captured, 3 were expected"):
        run_notebook("01-nested-spans-to-stdout.ipynb", edit=expect_three_spans)


def test_02_exports_to_a_real_collector(collector, monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector["endpoint"])
    monkeypatch.setenv("JAEGER_QUERY_URL", f"http://127.0.0.1:{free_port()}")  # no Jaeger here
    notebook = run_notebook("02-export-to-jaeger.ipynb")
    out = stdout(notebook)
    assert f"spans go to {collector['endpoint']}/v1/traces" in out
    assert "delivered: the spans reached" in out
    assert "Jaeger is not reachable" in out and "docker run --rm --name jaeger" in out
    assert "span from a global tracer in a later cell captured: false" in out
    assert "span from a global tracer in the same cell captured: true" in out
    assert "All 7 checks passed." in out
    received = collector["log"].read_text()
    assert "service.name: Str(example_exporter)" in received
    names = re.findall(r"Name\s+: (\S+)", received)
    assert "test_span_01" in names and "test_span_02" in names, received


def test_03_serves_requests_and_traces_them(monkeypatch):
    monkeypatch.setenv("LAB_SERVICE_PORT", str(free_port()))
    notebook = run_notebook("03-instrument-a-web-service.ipynb")
    out = stdout(notebook)
    assert out.count("-> 200 SRE and DevOps work together!!!") == 2, out
    assert "GET /missing  -> 404" in out
    assert "server span: trace 4bf92f3577b34da6a3ce929d0e0e4736  parent 00f067aa0ba902b7" in out
    pictures = [html for html in html_outputs(notebook) if "tracelab-waterfall" in html]
    assert pictures and "3 trace(s)" in pictures[0] and "test_span" in pictures[0]
    assert "All 6 checks passed." in out


def test_04_one_trace_with_propagation_two_without(monkeypatch):
    monkeypatch.setenv("LAB_BACKEND_PORT", str(free_port()))
    monkeypatch.setenv("LAB_FRONTEND_PORT", str(free_port()))
    notebook = run_notebook("04-a-trace-across-services.ipynb")
    out = stdout(notebook)
    pictures = [html for html in html_outputs(notebook) if "tracelab-waterfall" in html]
    assert len(pictures) == 2, "a waterfall with and one without propagation"
    with_propagation, without = pictures
    assert "4 span(s) in 1 trace(s)" in with_propagation, "one trace across both services"
    assert ">frontend<" in with_propagation and ">backend<" in with_propagation, "both services, each with its color"
    assert "4 span(s) in 2 trace(s)" in without, "two traces without propagation"
    header = re.search(r"traceparent: 00-(\w{32})-(\w{16})-01", out)
    assert header and f"trace {header.group(1)}" in with_propagation, out
    assert re.search(r"parent id (\w{16})   \(the frontend's CLIENT span: \1\)", out), out
    assert "read back downstream: lab.student = ada" in out
    assert "All 4 checks passed." in out


def test_05_span_features_and_the_sampled_share():
    notebook = run_notebook("05-what-goes-on-a-span.ipynb")
    out = stdout(notebook)
    share = float(re.search(r"sampled share: ([\d.]+)% of 4000 root spans", out).group(1))
    assert abs(share - 25.0) <= 4.0, f"the sampled share {share}% is not within 4 points of 25%"
    pictures = [html for html in html_outputs(notebook) if "tracelab-waterfall" in html]
    assert any("⚠ charge_card" in html for html in pictures), "the error is drawn"
    assert any("event: cache miss (cache.key = cart:A-1042)" in html for html in pictures), "events in the tooltip"
    assert "links to trace" in out
    assert "All 9 checks passed." in out


def test_notebooks_are_committed_clean():
    """No outputs, no execution counts, the Rust kernelspec: diffs stay readable."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = json.loads(path.read_text())
        assert notebook["metadata"]["kernelspec"]["name"] == "rust", path.name
        nbformat.validate(nbformat.reads(path.read_text(), as_version=4))
        for cell in notebook["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: {cell['source'][:60]}"
