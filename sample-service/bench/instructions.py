#!/usr/bin/env python3
"""What tracing costs the service, counted in instructions per request with callgrind.

Requests per second swing with whatever else the machine runs; the number of instructions a
program executes for the same input does not. Each case runs its release binary under
`valgrind --tool=callgrind` (every thread counted, the exporter's too), sends a warm-up, waits
until the collector holds the warm-up's spans, zeroes the counters (`callgrind_control -z`),
sends a fixed number of keep-alive `GET /` requests on one connection, waits until the collector
holds every span of them, and dumps the counters (`callgrind_control -d`). So the figure is
everything the process did for those requests: answering them, making their spans, batching,
encoding and sending them.

Cases:
  bare hyper    examples/bare_hyper.rs: hyper 1.x on tokio, a Rust HTTP server's floor here
  bare rouille  examples/bare_rouille.rs: rouille with the service's pool of worker threads and
                nothing else, the floor of the server library the service is built on
  disabled      the service with OTEL_SDK_DISABLED=true (a no-op tracer)
  no export     OTEL_TRACES_EXPORTER=none: spans made and ended, never exported
  otlp http     OTLP http/protobuf to a real collector (rotel), the service's default
  otlp grpc     OTLP gRPC to the same collector

After the table comes where the traced request's instructions go (`callgrind_annotate
--inclusive=yes` on the OTLP http dump, a few functions chosen to split the request threads from
the export thread and our code from the libraries'), and the verdicts against issue 13's targets.
`--keep DIR` keeps every dump for a closer look.

Usage: python3 sample-service/bench/instructions.py [--requests N] [--quick] [--keep DIR]
"""

import argparse
import http.client
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness import (
    BINARY,
    GRPC_PORT,
    HTTP_PORT,
    ROOT,
    SERVICE_PORT,
    TARGET_DIR,
    Collector,
    Service,
    fail,
    need,
    wait_for_delivery,
)

EXAMPLES = TARGET_DIR / "release" / "examples"
SPANS_PER_REQUEST = 2  # GET / and its child test_span
CASES = [
    ("bare hyper", {"command": [str(EXAMPLES / "bare_hyper"), f"127.0.0.1:{SERVICE_PORT}"]}),
    ("bare rouille", {"command": [str(EXAMPLES / "bare_rouille"), f"127.0.0.1:{SERVICE_PORT}"]}),
    ("disabled", {"env": {"OTEL_SDK_DISABLED": "true"}}),
    ("no export", {"env": {"OTEL_TRACES_EXPORTER": "none"}}),
    (
        "otlp http",
        {
            "env": {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{HTTP_PORT}",
            },
            "collector": True,
        },
    ),
    (
        "otlp grpc",
        {
            "env": {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
                "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{GRPC_PORT}",
            },
            "collector": True,
        },
    ),
]


def send_requests(count):
    """`count` sequential keep-alive GET / on one connection; every answer must be 200."""
    connection = http.client.HTTPConnection("127.0.0.1", SERVICE_PORT, timeout=60)
    try:
        for _ in range(count):
            connection.request("GET", "/", headers={"Host": f"127.0.0.1:{SERVICE_PORT}"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                fail(f"GET / answered {response.status}, expected 200")
    finally:
        connection.close()


def callgrind_control(service, vgdb_prefix, *args):
    """Tell the valgrind running `service` to zero (-z) or dump (-d) its counters.

    vgdb finds the process by a FIFO named after the prefix, $USER and $HOST, and the service
    reads HOST as its bind address, so this runs with the service's own environment.
    callgrind_control exits 0 even when it finds no process, hence the check of its output.
    """
    result = subprocess.run(
        ["callgrind_control", f"--vgdb-prefix={vgdb_prefix}", *args, str(service.process.pid)],
        capture_output=True,
        text=True,
        timeout=120,
        env=service.env,
    )
    if result.returncode != 0 or "Error" in result.stdout + result.stderr or "OK." not in result.stdout:
        fail(f"callgrind_control {' '.join(args)} failed: {result.stdout}{result.stderr}")


def wait_for_dump(pattern_dir, pattern, timeout=60.0):
    """The newest dump matching `pattern`, once callgrind has finished writing it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dumps = sorted(Path(pattern_dir).glob(pattern))
        if dumps and re.search(r"^totals:", dumps[-1].read_text(), re.M):
            return dumps[-1]
        time.sleep(0.2)
    fail(f"callgrind wrote no dump {pattern} within {timeout:.0f} s")


def instructions_in(dump):
    """The instruction total (`Ir`) of one callgrind dump."""
    match = re.search(r"^(?:summary|totals):\s+(\d+)", dump.read_text(), re.M)
    if match is None:
        fail(f"{dump} holds no instruction total")
    return int(match.group(1))


# What the service cost before issue 13 (commit d9d0a37, same script and machine), and the targets:
# the traced request a third cheaper, the disabled one a fifth.
BEFORE = {"otlp http": 82_767, "disabled": 46_227}
TARGETS = {"otlp http": 2 / 3, "disabled": 4 / 5}

# Inclusive counts of these functions (substrings of callgrind_annotate's names), per request.
BREAKDOWN = [
    (
        "request threads: rouille's workers (handlers, the tracing layer, responses)",
        "<F as threadpool::FnBox>::call_box",
    ),
    ("  the tracing layer, with the handler inside", "sample_service::http_tracing::HttpTracing::trace"),
    ("    the handler (its test_span included)", "sample_service::routes::Routes::respond"),
    (
        "    spans started (SDK, 2 a request)",
        "opentelemetry_sdk::trace::tracer::SdkTracer as opentelemetry::trace::tracer::Tracer>::build_with_context",
    ),
    (
        "    spans ended and queued (SDK, 2 a request)",
        "opentelemetry_sdk::trace::span::Span::ensure_ended_and_exported",
    ),
    ("    the SERVER span's attributes (ours)", "sample_service::http_tracing::attributes::request_attributes"),
    ("request threads: tiny_http reading requests", "tiny_http::Server::from_listener::{{closure}}::{{closure}}"),
    ("export thread: the batch span processor", "BatchSpanProcessor::get_spans_and_export"),
    (
        "  SpanData -> protobuf structs (opentelemetry-proto)",
        "opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope",
    ),
    (
        "    attribute values converted (through Display)",
        "core::convert::From<opentelemetry::common::Value> for opentelemetry_proto",
    ),
    ("    instrumentation scope hashed, once a span (SipHash)", "core::hash::BuildHasher::hash_one"),
    ("  protobuf encoding (prost)", "prost::message::Message::encode_to_vec"),
    (
        "  protobuf structs freed",
        "core::ptr::drop_in_place<opentelemetry_proto::proto::tonic::trace::v1::ResourceSpans>",
    ),
    ("HTTP client thread (reqwest's runtime)", "tokio::runtime::runtime::Runtime::block_on"),
]


def breakdown(dump, requests):
    """(label, instructions per request) for each BREAKDOWN row found in `dump`."""
    listing = subprocess.run(
        ["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(dump)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    rows = []
    for label, function in BREAKDOWN:
        for line in listing.splitlines():
            match = re.match(r"\s*([\d,]+) \(.*?\)\s+\S*?:(.*)$", line)
            if match and function in match.group(2):
                rows.append((label, int(match.group(1).replace(",", "")) / requests))
                break
    return rows


def measure(name, case, workdir, warmup, requests):
    slug = name.replace(" ", "-")
    out_prefix = Path(workdir) / f"callgrind.{slug}"
    collector = Collector(workdir) if case.get("collector") else None
    vgdb_prefix = Path(workdir) / "vgdb"
    valgrind = ["valgrind", "--tool=callgrind", f"--vgdb-prefix={vgdb_prefix}", f"--callgrind-out-file={out_prefix}.%p"]
    service = Service(case.get("env", {}), workdir, slug, command=valgrind + case.get("command", [str(BINARY)]))
    pid = service.process.pid
    send_requests(warmup)
    if collector:
        expected = SPANS_PER_REQUEST * warmup
        if wait_for_delivery(collector, expected, timeout=60.0) < expected:
            fail(f"{name}: the collector did not receive the warm-up's {expected} spans")
    callgrind_control(service, vgdb_prefix, "--zero")
    started = time.monotonic()
    send_requests(requests)
    received = None
    if collector:
        expected = SPANS_PER_REQUEST * (warmup + requests)
        received = wait_for_delivery(collector, expected, timeout=120.0) - SPANS_PER_REQUEST * warmup
    callgrind_control(service, vgdb_prefix, "--dump")
    seconds = time.monotonic() - started
    dump = wait_for_dump(workdir, f"callgrind.{slug}.{pid}.*")
    total = instructions_in(dump)
    service.process.terminate()
    service.process.wait(timeout=60)
    if collector:
        collector.stop()
    return {"name": name, "per_request": total / requests, "received": received, "dump": dump, "seconds": seconds}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=20_000, help="counted requests per case (default 20000)")
    parser.add_argument("--warmup", type=int, default=2_000, help="requests before the counters are zeroed")
    parser.add_argument("--quick", action="store_true", help="200 requests per case, only to check the script works")
    parser.add_argument("--keep", type=Path, help="copy the callgrind dumps into this folder")
    parser.add_argument(
        "--cases",
        default=",".join(name for name, _ in CASES),
        help="the cases to count, comma-separated (default: all of them)",
    )
    args = parser.parse_args()
    chosen = [name.strip() for name in args.cases.split(",")]
    unknown = [name for name in chosen if name not in dict(CASES)]
    if unknown:
        fail(
            f"--cases {args.cases!r}: unknown case {unknown[0]!r}; expected some of: "
            + ", ".join(name for name, _ in CASES)
        )
    if args.quick:
        args.requests, args.warmup = 200, 100
    if args.requests < 1 or args.warmup < 1:
        fail(f"--requests {args.requests} and --warmup {args.warmup}: both must be at least 1")

    need("valgrind", "apt-get install valgrind")
    need("callgrind_control", "apt-get install valgrind")
    print(
        "instructions: building the release binary and examples "
        "(cargo build --release --locked -p sample-service --bin sample-service --examples)",
        flush=True,
    )
    subprocess.run(
        [
            "cargo",
            "build",
            "--release",
            "--locked",
            "--quiet",
            "-p",
            "sample-service",
            "--bin",
            "sample-service",
            "--examples",
        ],
        cwd=ROOT,
        check=True,
    )

    results = []
    with tempfile.TemporaryDirectory(prefix="sample-service-instructions-") as workdir:
        print(
            f"instructions: {args.requests} counted requests per case after {args.warmup} warm-up ones, "
            "under callgrind (about 30 s per case for 20,000)",
            flush=True,
        )
        for name, case in CASES:
            if name not in chosen:
                continue
            result = measure(name, case, workdir, args.warmup, args.requests)
            received = "-" if result["received"] is None else f"{result['received']}"
            print(
                f"  {name:>12}: {result['per_request']:>9,.0f} instructions/request  spans received {received}"
                f"  ({result['seconds']:.0f} s)",
                flush=True,
            )
            if name == "otlp http":
                result["breakdown"] = breakdown(result["dump"], args.requests)
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                result["dump"] = Path(
                    shutil.copy(result["dump"], args.keep / f"callgrind.{name.replace(' ', '-')}.out")
                )
            results.append(result)

    by_name = {result["name"]: result for result in results}
    print()
    print("| case | instructions per request | over the bare rouille server | spans received |")
    print("|---|---|---|---|")
    floor = by_name["bare rouille"]["per_request"] if "bare rouille" in by_name else None
    for result in results:
        expected = SPANS_PER_REQUEST * args.requests
        spans = "-" if result["received"] is None else f"{result['received']:,}/{expected:,}"
        over = "-" if floor is None else f"{result['per_request'] - floor:+,.0f}"
        print(f"| {result['name']} | {result['per_request']:,.0f} | {over} | {spans} |")
    if "breakdown" in by_name.get("otlp http", {}):
        print()
        print("| where the traced (otlp http) request's instructions go | instructions per request |")
        print("|---|---|")
        for label, count in by_name["otlp http"]["breakdown"]:
            depth = (len(label) - len(label.lstrip(" "))) // 2
            print(f"| {'· ' * depth}{label.strip()} | {count:,.0f} |")
    print()
    for name, share in TARGETS.items():
        if name in by_name:
            now, before = by_name[name]["per_request"], BEFORE[name]
            ok = now <= before * share
            print(
                f"instructions: {'PASS' if ok else 'MISS'} {name}: {now:,.0f} instructions per request, "
                f"{1 - now / before:.1%} below the {before:,} before issue 13 (target {1 - share:.1%} below, "
                f"at most {before * share:,.0f})"
            )
    if args.keep:
        print(
            f"\ninstructions: dumps kept in {args.keep}; see where they go with "
            f"callgrind_annotate --inclusive=yes {args.keep}/callgrind.otlp-http.out"
        )
    missing = [
        r["name"] for r in results if r["received"] is not None and r["received"] != SPANS_PER_REQUEST * args.requests
    ]
    if missing:
        fail(f"spans were lost in: {', '.join(missing)} (the counts above cover less than the whole export)")
    if args.quick:
        print(
            "instructions: --quick counts too few requests to be representative; the figures only show the script works"
        )


if __name__ == "__main__":
    main()
