//! One request crossing two real service processes: `GET /chain` on a frontend calls a backend,
//! and the collector receives one trace with both services' spans linked parent to child. Then
//! what a failing downstream does: unreachable (502), too slow (504), not configured (503).

mod support;

use std::thread;
use std::time::Duration;

use support::{get, Collector, ReceivedSpan, Service};

fn otlp_to(collector: &Collector, service_name: &'static str) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_SERVICE_NAME", service_name.to_owned()),
        ("OTEL_TRACES_EXPORTER", "otlp".to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint("grpc")),
    ]
}

fn start(env: &[(&'static str, String)]) -> Service {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Service::start(&pairs)
}

fn one<'a>(spans: &'a [ReceivedSpan], service: &str, name: &str, kind: &str) -> &'a ReceivedSpan {
    let found: Vec<&ReceivedSpan> = spans
        .iter()
        .filter(|s| s.service_name == service && s.name == name && s.kind == kind)
        .collect();
    assert_eq!(found.len(), 1, "{service} {name} {kind} in {spans:#?}");
    found[0]
}

#[test]
fn a_request_through_two_services_is_one_trace() {
    let collector = Collector::start();
    let mut backend = start(&otlp_to(&collector, "backend"));
    let mut frontend_env = otlp_to(&collector, "frontend");
    frontend_env.push(("DOWNSTREAM_URL", backend.url("/")));
    let mut frontend = start(&frontend_env);

    let reply = get(&frontend.url("/chain"), &[]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.body,
        "downstream said: SRE and DevOps work together!!! "
    );
    frontend.stop();
    backend.stop();

    let spans =
        collector.wait_for_spans("four spans across both services", |spans| spans.len() >= 4);
    let server = one(&spans, "frontend", "GET /chain", "SPAN_KIND_SERVER");
    let client = one(&spans, "frontend", "GET", "SPAN_KIND_CLIENT");
    let downstream = one(&spans, "backend", "GET /", "SPAN_KIND_SERVER");
    let manual = one(&spans, "backend", "test_span", "SPAN_KIND_INTERNAL");
    for span in [client, downstream, manual] {
        assert_eq!(span.trace_id, server.trace_id, "one trace: {span:#?}");
    }
    assert_eq!(
        client.parent_id, server.span_id,
        "CLIENT inside the frontend's SERVER span"
    );
    assert_eq!(
        downstream.parent_id, client.span_id,
        "the backend continues the CLIENT span"
    );
    assert_eq!(manual.parent_id, downstream.span_id);
    assert_eq!(
        client.attribute("url.full"),
        Some(backend.url("/").as_str())
    );
    assert_eq!(client.attribute("http.request.method"), Some("GET"));
    assert_eq!(client.attribute("server.address"), Some("127.0.0.1"));
    assert_eq!(
        client.attribute("server.port"),
        Some(backend.port.to_string().as_str())
    );
    assert_eq!(client.attribute("http.response.status_code"), Some("200"));
    assert_eq!(client.status_code, "STATUS_CODE_UNSET");
    assert_eq!(
        reply.headers["traceresponse"].split('-').nth(1),
        Some(server.trace_id.as_str())
    );
}

#[test]
fn a_service_with_the_sdk_disabled_passes_the_callers_trace_on() {
    let collector = Collector::start();
    let mut backend = start(&otlp_to(&collector, "backend"));
    let mut frontend = start(&[
        ("OTEL_SDK_DISABLED", "true".to_owned()),
        ("DOWNSTREAM_URL", backend.url("/")),
    ]);
    let (trace_id, caller_span) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
    let traceparent = format!("00-{trace_id}-{caller_span}-01");
    let reply = get(&frontend.url("/chain"), &[("traceparent", &traceparent)]);
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(
        !reply.headers.contains_key("traceresponse"),
        "no span, no traceresponse: {:?}",
        reply.headers
    );
    frontend.stop();
    backend.stop();

    let spans = collector.wait_for_spans("the backend's spans", |spans| spans.len() >= 2);
    let downstream = one(&spans, "backend", "GET /", "SPAN_KIND_SERVER");
    assert_eq!(downstream.trace_id, trace_id, "the caller's trace goes on");
    assert_eq!(
        downstream.parent_id, caller_span,
        "the frontend made no span in between"
    );
    assert!(
        spans.iter().all(|span| span.service_name == "backend"),
        "{spans:#?}"
    );
}

/// `GET /chain` with `env` on a frontend exporting to a collector: the answer and the CLIENT span.
fn chain_with(
    extra: &[(&'static str, String)],
) -> (u16, String, Option<ReceivedSpan>, ReceivedSpan) {
    let collector = Collector::start();
    let mut env = otlp_to(&collector, "frontend");
    env.extend_from_slice(extra);
    let mut frontend = start(&env);
    let reply = get(&frontend.url("/chain"), &[]);
    frontend.stop();
    let spans = collector.wait_for_spans("the /chain server span", |spans| {
        spans.iter().any(|s| s.name == "GET /chain")
    });
    let client = spans.iter().find(|s| s.kind == "SPAN_KIND_CLIENT").cloned();
    let server = spans
        .iter()
        .find(|s| s.name == "GET /chain")
        .cloned()
        .unwrap();
    (reply.status, reply.body, client, server)
}

#[test]
fn an_unreachable_downstream_is_a_502_and_an_error_span() {
    let (listener, port) = support::listen_on_free_port();
    drop(listener); // nothing listens there now
    let url = format!("http://127.0.0.1:{port}/");
    let (status, body, client, server) = chain_with(&[("DOWNSTREAM_URL", url.clone())]);
    assert_eq!(status, 502);
    assert!(
        body.starts_with(&format!(
            "the downstream service at {url} could not be reached"
        )),
        "{body}"
    );
    let client = client.expect("a CLIENT span");
    assert_eq!(client.status_code, "STATUS_CODE_ERROR");
    assert_eq!(client.attribute("error.type"), Some("unreachable"));
    assert_eq!(server.status_code, "STATUS_CODE_ERROR");
    assert_eq!(server.attribute("http.response.status_code"), Some("502"));
}

#[test]
fn a_slow_downstream_is_a_504_after_the_timeout() {
    // Accepts connections and never answers.
    let (listener, port) = support::listen_on_free_port();
    let silent = thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        thread::sleep(Duration::from_secs(3));
        drop(stream);
    });
    let url = format!("http://127.0.0.1:{port}/");
    let (status, body, client, server) = chain_with(&[
        ("DOWNSTREAM_URL", url.clone()),
        ("DOWNSTREAM_TIMEOUT_MS", "300".to_owned()),
    ]);
    assert_eq!(status, 504);
    assert_eq!(
        body.trim(),
        format!("the downstream service at {url} did not answer within 300 ms")
    );
    let client = client.expect("a CLIENT span");
    assert_eq!(client.status_code, "STATUS_CODE_ERROR");
    assert_eq!(client.attribute("error.type"), Some("timeout"));
    assert_eq!(server.attribute("http.response.status_code"), Some("504"));
    silent.join().unwrap();
}

#[test]
fn a_downstream_error_status_is_a_502() {
    let collector = Collector::start();
    let mut backend = start(&otlp_to(&collector, "backend"));
    let url = backend.url("/does-not-exist");
    let (status, body, client, _) = chain_with(&[("DOWNSTREAM_URL", url.clone())]);
    backend.stop();
    assert_eq!(status, 502);
    assert_eq!(
        body.trim(),
        format!("the downstream service at {url} answered HTTP 404")
    );
    let client = client.expect("a CLIENT span");
    assert_eq!(client.attribute("error.type"), Some("404"));
    assert_eq!(client.attribute("http.response.status_code"), Some("404"));
    assert_eq!(client.status_code, "STATUS_CODE_ERROR");
}

#[test]
fn no_downstream_url_is_a_clear_503() {
    let (status, body, client, _) = chain_with(&[]);
    assert_eq!(status, 503);
    assert!(body.contains("DOWNSTREAM_URL=http://host:port/"), "{body}");
    assert!(client.is_none(), "no call, no CLIENT span");
}

#[test]
fn a_bad_downstream_timeout_stops_the_service_with_one_line() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_sample-service"))
        .env_clear()
        .env("DOWNSTREAM_URL", "http://backend:5000/")
        .env("DOWNSTREAM_TIMEOUT_MS", "soon")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("DOWNSTREAM_TIMEOUT_MS=\"soon\" is not a valid value: expected a whole number of milliseconds from 1 to 600000"),
        "{stderr}"
    );
}
