//! `GET /order` at a real collector: its span tree, the staircase of sequential quotes, and the
//! overlapping quotes of `?calls=concurrent`.

mod support;

use support::{get, Collector, ReceivedSpan, Service};

fn spans_of_one_order(query: &str) -> Vec<ReceivedSpan> {
    let collector = Collector::start();
    let mut service = Service::start(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &collector.endpoint("http/protobuf"),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    let reply = get(&service.url(&format!("/order{query}")), &[]);
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply.body.starts_with("order 1 placed: 4 items quoted"),
        "{}",
        reply.body
    );
    let trace = reply.headers["traceresponse"]
        .split('-')
        .nth(1)
        .unwrap()
        .to_owned();
    service.stop();
    collector
        .wait_for_spans("the order's spans", |spans| {
            spans.iter().filter(|span| span.trace_id == trace).count() >= 9
        })
        .into_iter()
        .filter(|span| span.trace_id == trace)
        .collect()
}

fn one<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|span| span.name == name).collect();
    assert_eq!(found.len(), 1, "one {name}: {spans:#?}");
    found[0]
}

fn quotes(spans: &[ReceivedSpan]) -> Vec<&ReceivedSpan> {
    let mut quotes: Vec<_> = spans
        .iter()
        .filter(|span| span.name == "quote_item")
        .collect();
    quotes.sort_by_key(|span| span.start_ns);
    assert_eq!(quotes.len(), 4, "{spans:#?}");
    quotes
}

#[test]
fn an_order_is_a_tree_of_steps_and_its_quotes_a_staircase() {
    let spans = spans_of_one_order("");
    let server = one(&spans, "GET /order");
    assert_eq!(server.kind, "SPAN_KIND_SERVER");
    for step in ["load_customer", "read_price_cache"] {
        assert_eq!(one(&spans, step).parent_id, server.span_id, "{step}");
    }
    let load = one(&spans, "load_customer");
    assert_eq!(one(&spans, "wait_for_connection").parent_id, load.span_id);
    let query = one(&spans, "SELECT customers");
    assert_eq!(query.parent_id, load.span_id);
    assert_eq!(query.kind, "SPAN_KIND_CLIENT");
    assert_eq!(
        one(&spans, "read_price_cache").attribute("lab.cache.hit"),
        Some("true"),
        "the first order finds its prices in the cache"
    );
    let quotes = quotes(&spans);
    for pair in quotes.windows(2) {
        assert_eq!(pair[0].parent_id, server.span_id);
        assert!(
            pair[1].start_ns >= pair[0].end_ns,
            "sequential quotes do not overlap: {pair:#?}"
        );
    }
}

#[test]
fn concurrent_quotes_overlap_in_the_same_tree() {
    let spans = spans_of_one_order("?calls=concurrent");
    let server = one(&spans, "GET /order");
    let quotes = quotes(&spans);
    assert!(quotes.iter().all(|quote| quote.parent_id == server.span_id));
    let last_start = quotes.iter().map(|quote| quote.start_ns).max().unwrap();
    let first_end = quotes.iter().map(|quote| quote.end_ns).min().unwrap();
    assert!(
        last_start < first_end,
        "every quote runs while the others do: {quotes:#?}"
    );
    assert!(
        server.end_ns - server.start_ns < 150_000_000,
        "the order took {} ms",
        (server.end_ns - server.start_ns) / 1_000_000
    );
}
