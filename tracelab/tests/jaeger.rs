//! tracelab's Jaeger client against the real Jaeger (2.12.0, built from its Go module by
//! `tools/jaeger/build.sh`; `./lab test` sets `JAEGER_BIN`), started on loopback ports of the
//! test's choosing with `tools/jaeger/test-config.yaml`, fed over OTLP/HTTP by the SDK's own
//! exporter as a notebook feeds it. The recorded answers in `src/jaeger.rs`'s unit tests cover
//! the same client offline.
//!
//! tracelab reads only `/api/v3/traces/{id}` and `/api/v3/services`; the legacy `/api/traces/{id}`
//! is what Jaeger's UI reads, not tracelab.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracelab::jaeger::{Jaeger, JaegerError};

/// A Jaeger process, killed when dropped.
struct RunningJaeger {
    child: Child,
    query: String,
    otlp_http: String,
}

impl Drop for RunningJaeger {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `N` different free loopback ports (all held until all are chosen, then let go: Jaeger binds
/// them a moment later, with SO_REUSEADDR as Go's listeners do).
fn free_ports<const N: usize>() -> [u16; N] {
    let listeners =
        [(); N].map(|_| TcpListener::bind(("127.0.0.1", 0)).expect("a free loopback port"));
    listeners.map(|listener| listener.local_addr().expect("its address").port())
}

/// The binary `./lab test` built, or the one `tools/jaeger/build.sh` builds or finds.
fn jaeger_binary() -> String {
    if let Ok(binary) = std::env::var("JAEGER_BIN") {
        return binary;
    }
    let output = Command::new(repository().join("tools/jaeger/build.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("tools/jaeger/build.sh runs");
    assert!(output.status.success(), "tools/jaeger/build.sh failed");
    String::from_utf8(output.stdout)
        .expect("a path")
        .trim()
        .to_owned()
}

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tracelab/ is in the repository")
        .to_owned()
}

/// Jaeger on loopback, healthy (its `/status` answers 200) before this returns.
fn start_jaeger() -> RunningJaeger {
    let [grpc, http, query, query_grpc, health] = free_ports();
    let mut command = Command::new(jaeger_binary());
    command
        .arg("--config")
        .arg(repository().join("tools/jaeger/test-config.yaml"))
        .env("JAEGER_OTLP_GRPC", grpc.to_string())
        .env("JAEGER_OTLP_HTTP", http.to_string())
        .env("JAEGER_QUERY_HTTP", query.to_string())
        .env("JAEGER_QUERY_GRPC", query_grpc.to_string())
        .env("JAEGER_HEALTH", health.to_string())
        .env("JAEGER_MAX_TRACES", "1000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let running = RunningJaeger {
        child: command.spawn().expect("Jaeger starts"),
        query: format!("http://127.0.0.1:{query}"),
        otlp_http: format!("http://127.0.0.1:{http}"),
    };
    let started = Instant::now();
    let status = format!("http://127.0.0.1:{health}/status");
    while ureq::get(&status).call().map(|answer| answer.status()).ok() != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "Jaeger not healthy after 30 s"
        );
        thread::sleep(Duration::from_millis(100));
    }
    running
}

/// A provider of `service` that exports to `jaeger` in batches, sent only when flushed (a
/// scheduled export an hour away never comes during a test).
fn provider_to(jaeger: &RunningJaeger, service: &str) -> SdkTracerProvider {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", jaeger.otlp_http))
        .build()
        .expect("an OTLP/HTTP exporter");
    let processor = opentelemetry_sdk::trace::BatchSpanProcessor::builder(exporter)
        .with_batch_config(
            opentelemetry_sdk::trace::BatchConfigBuilder::default()
                .with_scheduled_delay(Duration::from_secs(3600))
                .build(),
        )
        .build();
    SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name(service.to_owned())
                .build(),
        )
        .with_span_processor(processor)
        .build()
}

/// A `checkout` span with a failed `charge_card` CLIENT span in it; returns the trace id.
fn checkout(provider: &SdkTracerProvider) -> String {
    let tracer = provider.tracer("tracelab_tests");
    tracer.in_span("checkout", |cx| {
        let mut charge = tracer
            .span_builder("charge_card")
            .with_kind(SpanKind::Client)
            .with_attributes([KeyValue::new("payment.amount", 42_i64)])
            .start(&tracer);
        charge.set_status(Status::error("card declined"));
        charge.end();
        cx.span().span_context().trace_id().to_string()
    })
}

#[test]
fn a_trace_sent_over_otlp_is_read_back_by_id_with_its_tree_and_jaeger_lists_its_service() {
    let jaeger = start_jaeger();
    let provider = provider_to(&jaeger, "shop_under_test");
    let trace_id = checkout(&provider);
    provider.force_flush().expect("Jaeger accepts the spans");

    let client = Jaeger::new(&jaeger.query);
    let spans = client
        .wait_for_trace(&trace_id, Duration::from_secs(10))
        .expect("Jaeger has the trace");
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let checkout = spans.iter().find(|span| span.name == "checkout").unwrap();
    let charge = spans
        .iter()
        .find(|span| span.name == "charge_card")
        .unwrap();
    assert_eq!(charge.parent_id.as_deref(), Some(checkout.span_id.as_str()));
    assert_eq!(checkout.parent_id, None);
    assert!(spans
        .iter()
        .all(|span| span.trace_id == trace_id && span.service == "shop_under_test"));
    assert_eq!(charge.kind, "client");
    assert_eq!(charge.error.as_deref(), Some("card declined"));
    assert!(charge
        .attributes
        .contains(&("payment.amount".to_owned(), "42".to_owned())));
    assert_eq!(checkout.scope, "tracelab_tests");
    assert!(client
        .services()
        .unwrap()
        .contains(&"shop_under_test".to_owned()));
    assert_eq!(
        client.trace_page(&trace_id),
        format!("{}/trace/{trace_id}", jaeger.query)
    );
}

#[test]
fn a_trace_still_being_ingested_is_asked_for_again_until_it_is_there() {
    let jaeger = start_jaeger();
    let provider = provider_to(&jaeger, "late_service");
    let trace_id = checkout(&provider);
    let client = Jaeger::new(&jaeger.query);
    assert!(
        matches!(client.trace(&trace_id), Err(JaegerError::NotFound { .. })),
        "not sent yet"
    );

    let started = Instant::now();
    let sender = thread::spawn(move || {
        thread::sleep(Duration::from_millis(1500));
        provider.force_flush().expect("Jaeger accepts the spans");
    });
    let spans = client
        .wait_for_trace(&trace_id, Duration::from_secs(15))
        .expect("the trace, once it arrived");
    sender.join().unwrap();
    assert!(started.elapsed() >= Duration::from_millis(1500));
    assert_eq!(spans.len(), 2, "{spans:#?}");
}

#[test]
fn a_trace_id_jaeger_does_not_have_is_not_found_after_the_wait() {
    let jaeger = start_jaeger();
    let client = Jaeger::new(&jaeger.query);
    let unknown = format!("{:032x}", fastrand::u128(1..));
    match client.wait_for_trace(&unknown, Duration::from_secs(1)) {
        Err(error @ JaegerError::NotFound { waited, .. }) => {
            assert!(waited >= 1.0, "{waited}");
            assert!(error.to_string().contains(&unknown), "{error}");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn a_jaeger_that_has_stopped_is_unreachable_and_the_error_says_how_to_start_one() {
    let mut jaeger = start_jaeger();
    let client = Jaeger::new(&jaeger.query);
    assert!(client.services().is_ok(), "running, it answers");
    jaeger.child.kill().unwrap();
    jaeger.child.wait().unwrap();
    match client.trace(format!("{:032x}", fastrand::u128(1..))) {
        Err(error @ JaegerError::Unreachable { .. }) => {
            let message = error.to_string();
            assert!(message.contains(&jaeger.query), "{message}");
            assert!(message.contains("docker run"), "{message}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
}
