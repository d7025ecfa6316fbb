"""What docker/compose.yaml runs, run here as processes on loopback (these machines have no
Docker engine): Debian's nginx with docker/proxy/default.conf.template rendered as the nginx image
renders it, the sample service as `app` and as `backend` with their environment from compose.yaml,
and the real Jaeger (2.12.0, built from its Go module: see tools/jaeger/). Requests go through
nginx to /, /chain and /order; each one's whole trace is then found in Jaeger through its query
API: every span, both services, every parent link, the ids the service put in `traceresponse`.
"""

import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

from loopback_servers import cargo_binary, free_port, get_json, stop, wait_for_port, wait_for_trace

DOCKER = Path(__file__).resolve().parent
COMPOSE = yaml.safe_load((DOCKER / "compose.yaml").read_text())
NGINX = next((path for path in ["/usr/sbin/nginx", "/usr/bin/nginx"] if os.path.exists(path)), None)
TRACERESPONSE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$")


def compose_interpolate(value):
    """`${NAME:-default}` as compose reads it, with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", str(value))


def service_environment(name, addresses):
    """The environment compose.yaml gives service `name`, its hosts and ports replaced by where
    they run here (`addresses`: {"jaeger:4318": "127.0.0.1:N", ...})."""
    env = {}
    for variable, value in COMPOSE["services"][name]["environment"].items():
        value = compose_interpolate(value)
        for host, here in addresses.items():
            value = value.replace(host, here)
        env[variable] = value
    return env


def render_template(template, values):
    """What the nginx image's entrypoint (20-envsubst-on-templates.sh) does with a template:
    `envsubst` with the names of the variables that are set, so that nginx's own `$name`s stay."""
    names = " ".join(f"${{{name}}}" for name in values)
    rendered = subprocess.run(
        ["envsubst", names],
        input=template,
        env={**os.environ, **values},
        capture_output=True,
        text=True,
        check=True,
        timeout=10,
    )
    return rendered.stdout


@pytest.fixture(scope="module")
def stack(jaeger, tmp_path_factory):
    """jaeger, backend, app and proxy started in compose's order, each healthy before the next;
    stopped in the reverse order."""
    if NGINX is None:
        pytest.fail("nginx is not installed: run ./lab test, which installs it (apt-get install nginx)")
    directory = tmp_path_factory.mktemp("stack")
    binary = cargo_binary("sample-service")
    jaeger_otlp = jaeger["otlp_http"].removeprefix("http://")
    ports = {"app": free_port(), "backend": free_port(), "proxy": free_port()}
    processes, logs = [], []
    try:
        for name in ["backend", "app"]:
            env = service_environment(
                name, {"jaeger:4318": jaeger_otlp, "backend:5000": f"127.0.0.1:{ports['backend']}"}
            )
            env.update(HOST="127.0.0.1", PORT=str(ports[name]))
            log = open(directory / f"{name}.log", "w")
            logs.append(log)
            processes.append(
                subprocess.Popen([binary], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
            )
            wait_for_port(ports[name])
        proxy = COMPOSE["services"]["proxy"]["environment"]
        site = render_template(
            (DOCKER / "proxy" / "default.conf.template").read_text(),
            {
                "PROXY_LISTEN_PORT": f"127.0.0.1:{ports['proxy']}",
                "UPSTREAM": proxy["UPSTREAM"].replace("app:5000", f"127.0.0.1:{ports['app']}"),
            },
        )
        (directory / "site.conf").write_text(site)
        # Around the project's site: one process, as this user, files here (the image's own
        # nginx.conf does the same with its paths).
        (directory / "nginx.conf").write_text(
            f"daemon off;\nmaster_process off;\nerror_log {directory}/error.log warn;\npid {directory}/nginx.pid;\n"
            f"events {{ worker_connections 1024; }}\n"
            f"http {{\n  access_log off;\n  client_body_temp_path {directory}/body;\n  proxy_temp_path {directory}/proxy;\n"
            f"  fastcgi_temp_path {directory}/fastcgi;\n  uwsgi_temp_path {directory}/uwsgi;\n  scgi_temp_path {directory}/scgi;\n"
            f"  include {directory}/site.conf;\n}}\n"
        )
        processes.append(
            subprocess.Popen(
                [NGINX, "-p", str(directory), "-c", "nginx.conf"], stderr=subprocess.STDOUT, stdout=subprocess.DEVNULL
            )
        )
        wait_for_port(ports["proxy"])
        yield {"proxy": f"http://127.0.0.1:{ports['proxy']}", "jaeger": jaeger, "directory": directory}
    finally:
        for process in reversed(processes):
            stop(process)
        for log in logs:
            log.close()


def get(url, headers=None):
    """(status, headers, body) of `GET url`."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=20) as response:
        return response.status, response.headers, response.read().decode()


def the_whole_trace(stack, path, expected, headers=None):
    """Sends `GET path` through nginx and returns (its trace in Jaeger, the traceresponse ids),
    once Jaeger has every (service, span name) of `expected`; asserts the trace is whole."""
    status, response_headers, _ = get(stack["proxy"] + path, headers)
    assert status == 200, (path, status)
    ids = TRACERESPONSE.match(response_headers.get("traceresponse", ""))
    assert ids, f"{path}: traceresponse {response_headers.get('traceresponse')!r}"
    trace_id, span_id = ids.groups()
    spans = wait_for_trace(
        stack["jaeger"]["query"],
        trace_id,
        lambda spans: expected <= {(span["service"], span["name"]) for span in spans},
        timeout=30,
    )
    seen = {(span["service"], span["name"]) for span in spans}
    assert expected <= seen, f"{path}: Jaeger has {sorted(seen)}, expected {sorted(expected)}"
    assert all(span["traceId"] == trace_id for span in spans)
    by_id = {span["spanId"]: span for span in spans}
    server = by_id.get(span_id)
    assert server and server["kind"] == 2 and server["service"] == "service_example", (
        f"{path}: traceresponse names span {span_id}, the service's server span"
    )
    return spans, by_id, server


def test_compose_health_check_asks_jaegers_own_health_endpoint_and_it_answers(jaeger):
    check = COMPOSE["services"]["jaeger"]["healthcheck"]["test"]
    url = next(part for part in check if part.startswith("http://"))
    assert url == "http://127.0.0.1:13133/status", "compose asks Jaeger's health-check extension"
    status, body = get_json(jaeger["health"])  # the same path, on the port the test chose
    assert jaeger["health"].endswith("/status") and status == 200 and body["healthy"] is True, body


def test_get_root_through_nginx_is_one_whole_trace_in_jaeger(stack):
    spans, by_id, server = the_whole_trace(stack, "/", {("service_example", "GET /")})
    assert "parentSpanId" not in server or not server["parentSpanId"], "a new trace starts at the service"
    assert all(not span.get("parentSpanId") or span["parentSpanId"] in by_id for span in spans)


def test_get_chain_through_nginx_is_one_trace_across_both_services(stack):
    expected = {("service_example", "GET /chain"), ("backend", "GET /")}
    spans, by_id, server = the_whole_trace(stack, "/chain", expected)
    assert {span["service"] for span in spans} == {"service_example", "backend"}
    backend = next(span for span in spans if span["service"] == "backend" and span["kind"] == 2)
    call = by_id[backend["parentSpanId"]]
    assert call["service"] == "service_example" and call["kind"] == 3, "the backend's parent is the app's CLIENT span"
    # Every span but the root has its parent in the trace: the waterfall has no orphans.
    roots = [span for span in spans if not span.get("parentSpanId")]
    assert roots == [server], [span["name"] for span in roots]
    assert all(span["parentSpanId"] in by_id for span in spans if span is not server)


def test_a_callers_trace_is_continued_through_nginx_and_both_services(stack):
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    expected = {("service_example", "GET /chain"), ("backend", "GET /")}
    spans, by_id, server = the_whole_trace(
        stack,
        "/chain",
        expected,
        headers={"traceparent": f"00-{caller_trace}-{caller_span}-01", "tracestate": "lab=nginx"},
    )
    assert server["traceId"] == caller_trace and server["parentSpanId"] == caller_span
    assert all(span["parentSpanId"] in by_id for span in spans if span is not server)
    backend = next(span for span in spans if span["service"] == "backend" and span["kind"] == 2)
    assert backend.get("traceState") == "lab=nginx", "tracestate went through nginx and the app"


def test_get_order_through_nginx_is_one_whole_trace_with_its_steps(stack):
    steps = {"GET /order", "load_customer", "wait_for_connection", "quote_item", "read_price_cache"}
    spans, by_id, server = the_whole_trace(stack, "/order", {("service_example", step) for step in steps})
    assert server["name"] == "GET /order"
    assert all(span["parentSpanId"] in by_id for span in spans if span is not server)
