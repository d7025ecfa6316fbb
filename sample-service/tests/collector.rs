//! The real binary against a real OpenTelemetry collector: what arrives, the SIGTERM flush,
//! and a collector that is down and comes back.

mod support;

use std::collections::HashSet;
use std::time::Instant;

use support::{get, Collector, ReceivedSpan, Service};

const GREETING: &str = "SRE and DevOps work together!!! ";

fn otlp_env<'a>(protocol: &'a str, endpoint: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
    ]
}

fn server_spans(spans: &[ReceivedSpan], name: &str) -> Vec<ReceivedSpan> {
    spans
        .iter()
        .filter(|span| span.name == name && span.kind == "SPAN_KIND_SERVER")
        .cloned()
        .collect()
}

/// One `GET /` with a caller's `traceparent`: the collector gets the SERVER span with the
/// conventions' attributes and `test_span` as its child, in the caller's trace.
fn a_request_arrives_as_a_server_span_with_its_child(protocol: &str) {
    let collector = Collector::start();
    let endpoint = collector.endpoint(protocol);
    let mut env = otlp_env(protocol, &endpoint);
    env.push(("OTEL_SERVICE_NAME", "lab_under_test"));
    let mut service = Service::start(&env);

    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let reply = get(
        &service.url("/?from=test"),
        &[
            (
                "traceparent",
                &format!("00-{caller_trace}-00f067aa0ba902b7-01"),
            ),
            ("User-Agent", "tracing-lab-test/1.0"),
        ],
    );
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, GREETING);
    let traceresponse = reply
        .headers
        .get("traceresponse")
        .expect("a traceresponse header");
    assert!(
        traceresponse.starts_with(&format!("00-{caller_trace}-")),
        "{traceresponse}"
    );

    let missing = get(&service.url("/missing"), &[]);
    assert_eq!(missing.status, 404);
    service.stop();

    let spans = collector.wait_for_spans("GET /, test_span and the 404", |spans| spans.len() >= 3);
    let server = server_spans(&spans, "GET /");
    assert_eq!(server.len(), 1, "{spans:#?}");
    let server = &server[0];
    assert_eq!(server.service_name, "lab_under_test");
    assert_eq!(server.trace_id, caller_trace);
    assert_eq!(server.parent_id, "00f067aa0ba902b7");
    assert_eq!(
        traceresponse,
        &format!("00-{caller_trace}-{}-01", server.span_id)
    );
    for (key, value) in [
        ("http.request.method", "GET"),
        ("url.path", "/"),
        ("url.query", "from=test"),
        ("url.scheme", "http"),
        ("http.route", "/"),
        ("http.response.status_code", "200"),
        ("server.address", "127.0.0.1"),
        ("server.port", &service.port.to_string()),
        ("client.address", "127.0.0.1"),
        ("user_agent.original", "tracing-lab-test/1.0"),
        ("network.protocol.version", "1.1"),
    ] {
        assert_eq!(server.attribute(key), Some(value), "{key} on {server:#?}");
    }

    let child = spans
        .iter()
        .find(|span| span.name == "test_span")
        .expect("test_span");
    assert_eq!(child.trace_id, server.trace_id, "same trace");
    assert_eq!(
        child.parent_id, server.span_id,
        "test_span is the child of GET /"
    );
    assert_eq!(child.kind, "SPAN_KIND_INTERNAL");

    let not_found = spans
        .iter()
        .find(|span| span.attribute("http.response.status_code") == Some("404"))
        .expect("the 404's span");
    assert_eq!(
        not_found.name, "GET",
        "no route matched: named after the method only"
    );
    assert_eq!(not_found.status_code, "STATUS_CODE_UNSET");
}

#[test]
fn over_http_protobuf_a_request_arrives_as_a_server_span_with_its_child() {
    a_request_arrives_as_a_server_span_with_its_child("http/protobuf");
}

#[test]
fn over_grpc_a_request_arrives_as_a_server_span_with_its_child() {
    a_request_arrives_as_a_server_span_with_its_child("grpc");
}

#[test]
fn the_default_service_name_is_the_original_labs() {
    let collector = Collector::start();
    let endpoint = collector.endpoint("http/protobuf");
    let mut service = Service::start(&otlp_env("http/protobuf", &endpoint));
    assert_eq!(get(&service.url("/"), &[]).status, 200);
    service.stop();
    let spans = collector.wait_for_spans("GET /", |spans| !server_spans(spans, "GET /").is_empty());
    assert!(
        spans
            .iter()
            .all(|span| span.service_name == "service_example"),
        "{spans:#?}"
    );
}

/// N requests, SIGTERM right away, and N traces reach the collector. The batch timer is set to a
/// minute, so only the shutdown flush can have sent them.
#[test]
fn sigterm_flushes_every_span_of_completed_requests() {
    const REQUESTS: usize = 300;
    let collector = Collector::start();
    let endpoint = collector.endpoint("grpc");
    let mut env = otlp_env("grpc", &endpoint);
    env.push(("OTEL_BSP_SCHEDULE_DELAY", "60000"));
    let mut service = Service::start(&env);

    for _ in 0..REQUESTS {
        assert_eq!(get(&service.url("/"), &[]).status, 200);
    }
    assert!(
        server_spans(&collector.spans(), "GET /").len() < REQUESTS,
        "with a one-minute batch timer, not everything may have been exported before SIGTERM"
    );
    service.stop();

    let spans = collector.wait_for_spans("every request's spans", |spans| {
        server_spans(spans, "GET /").len() >= REQUESTS
    });
    let server = server_spans(&spans, "GET /");
    let trace_ids: HashSet<&str> = server.iter().map(|span| span.trace_id.as_str()).collect();
    assert_eq!(server.len(), REQUESTS);
    assert_eq!(trace_ids.len(), REQUESTS, "one trace per request");
    let children = spans.iter().filter(|span| span.name == "test_span").count();
    assert_eq!(children, REQUESTS);
    let summary = service
        .process
        .stderr
        .wait_for("stopped; OTLP", "the shutdown summary");
    assert!(
        summary.contains(&format!(
            "{} spans ended, {} delivered, 0 lost",
            2 * REQUESTS,
            2 * REQUESTS
        )),
        "{summary}"
    );
}

/// With no collector the service keeps answering and says how many spans it lost; when the
/// collector starts, spans flow again.
fn the_service_outlives_its_collector(protocol: &str) {
    let grpc_port = support::free_port();
    let http_port = support::free_port();
    let endpoint = match protocol {
        "grpc" => format!("http://127.0.0.1:{grpc_port}"),
        _ => format!("http://127.0.0.1:{http_port}"),
    };
    let mut service = Service::start(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
    ]);

    // Collector down: every request still succeeds.
    let started = Instant::now();
    for _ in 0..2_000 {
        let reply = get(&service.url("/"), &[]);
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, GREETING);
    }
    let while_down = started.elapsed();
    let failure = service
        .process
        .stderr
        .wait_for("could not export", "the lost-spans log line");
    assert!(
        failure.contains("so far") && failure.contains("spans lost in failed exports and"),
        "{failure}"
    );
    assert!(failure.contains(&endpoint), "names the endpoint: {failure}");
    let rss_kb = service.process.peak_rss_kb();
    assert!(
        rss_kb < 64 * 1024,
        "peak RSS {rss_kb} kB while the collector is down"
    );

    // Collector up: spans of new requests arrive (once the backlog queued while it was down
    // has drained, so keep asking), and the service says export works again.
    let collector = Collector::start_on(grpc_port, http_port);
    let mut sent_after_restart = HashSet::new();
    support::wait_until(
        "a span of a request sent after the collector started",
        || {
            let reply = get(&service.url("/"), &[]);
            let trace_id = reply.headers["traceresponse"]
                .split('-')
                .nth(1)
                .unwrap()
                .to_owned();
            sent_after_restart.insert(trace_id);
            collector
                .spans()
                .iter()
                .any(|span| span.name == "GET /" && sent_after_restart.contains(&span.trace_id))
                .then_some(())
        },
    );
    service
        .process
        .stderr
        .wait_for("works again", "the export-resumed log line");
    let ran_for = started.elapsed();
    service.stop();
    // The loss lines are rate-limited by time: the first, at most one per ten seconds after it,
    // and the recovery line.
    let stderr = service.process.stderr.snapshot();
    let telemetry_lines = stderr
        .iter()
        .filter(|line| line.starts_with("telemetry: "))
        .count();
    let allowed = 2 + (ran_for.as_secs() / 10) as usize + 1;
    assert!(
        telemetry_lines <= allowed,
        "{telemetry_lines} lines in {ran_for:?}: {stderr:#?}"
    );
    // And the counts add up: every span that ended was delivered, lost or dropped, none unsent.
    let summary = service
        .process
        .stderr
        .wait_for("stopped; OTLP", "the shutdown summary");
    let numbers: Vec<u64> = summary
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|part| part.parse().ok())
        .collect();
    let [ended, delivered, failed, dropped] = numbers[..] else {
        panic!("{summary}")
    };
    assert_eq!(ended, delivered + failed + dropped, "{summary}");
    assert!(
        failed + dropped > 0,
        "spans were lost while the collector was down: {summary}"
    );
    eprintln!("{protocol}: 2000 requests with the collector down took {while_down:?}, peak RSS {rss_kb} kB; {summary}");
}

#[test]
fn over_grpc_the_service_outlives_its_collector() {
    the_service_outlives_its_collector("grpc");
}

#[test]
fn over_http_protobuf_the_service_outlives_its_collector() {
    the_service_outlives_its_collector("http/protobuf");
}

/// `OTEL_TRACES_SAMPLER=always_off`: requests are served, their context still goes back in
/// `traceresponse` (flagged not sampled), and nothing reaches the collector.
#[test]
fn a_sampler_that_records_nothing_exports_nothing() {
    let collector = Collector::start();
    let endpoint = collector.endpoint("http/protobuf");
    let mut env = otlp_env("http/protobuf", &endpoint);
    env.push(("OTEL_TRACES_SAMPLER", "always_off"));
    let mut service = Service::start(&env);
    let reply = get(&service.url("/"), &[]);
    assert_eq!(reply.status, 200);
    assert!(
        reply.headers["traceresponse"].ends_with("-00"),
        "{:?}",
        reply.headers
    );
    service.stop();
    let summary = service
        .process
        .stderr
        .wait_for("stopped; OTLP", "the shutdown summary");
    assert!(summary.contains("0 spans ended, 0 delivered"), "{summary}");
    assert!(collector.spans().is_empty());
}
