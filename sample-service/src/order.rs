//! `GET /order`: one request that does realistic work in steps, each step a span. It is the route
//! notebook 06 reads to find the slow part, in the spirit of Jaeger's HotROD demo, and its three
//! problems are deliberate and plain in a waterfall:
//!
//! - `load_customer` needs the one database connection every order shares (a lock), and holds it
//!   for the whole query: concurrent orders queue behind each other (`wait_for_connection`);
//! - `quote_item` is called for each of the order's items one after another, though no call needs
//!   another's answer: the calls form a staircase;
//! - `read_price_cache` misses one time in three and then waits for `load_prices`.
//!
//! `GET /order?calls=concurrent` quotes the items at once, the fix notebook 06 asks for. The work
//! is simulated with sleeps, so that its timing is the same on every machine. At most half the
//! worker threads run orders at once; one more is answered 503 at once.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

use opentelemetry::trace::{SpanKind, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};

use crate::limit::Limit;
use crate::telemetry::SharedTracer;

/// How long the customer query holds the shared connection.
pub const QUERY_TIME: Duration = Duration::from_millis(30);
/// The items of every order.
pub const ITEMS: u64 = 4;
/// How long one item's quote takes.
pub const QUOTE_TIME: Duration = Duration::from_millis(40);
/// One order in this many misses the price cache.
pub const CACHE_MISS_EVERY: u64 = 3;
/// How long loading the prices takes after a miss.
pub const PRICE_LOAD_TIME: Duration = Duration::from_millis(60);

/// How the items are quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Calls {
    /// One after another: the route as it comes.
    Sequential,
    /// All at once, each on a thread of its own.
    Concurrent,
}

/// The order route's state: the shared connection, the cache's counter, the cap on orders.
pub struct Orders {
    tracer: SharedTracer,
    connection: Mutex<()>,
    orders: AtomicU64,
    in_progress: Limit,
}

/// Too many orders are in progress.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0} orders are already in progress, the most this service takes at once; try again shortly"
)]
pub struct Busy(pub usize);

impl Orders {
    /// The route, running at most `max_concurrent` orders at a time.
    pub fn new(tracer: SharedTracer, max_concurrent: usize) -> Orders {
        Orders {
            tracer,
            connection: Mutex::new(()),
            orders: AtomicU64::new(0),
            in_progress: Limit::new(max_concurrent),
        }
    }

    /// Places one order inside the active span; returns what to answer.
    pub fn place(&self, calls: Calls) -> Result<String, Busy> {
        let Some(_permit) = self.in_progress.try_acquire() else {
            return Err(Busy(self.in_progress.max()));
        };
        let number = self.orders.fetch_add(1, Ordering::Relaxed) + 1;
        self.load_customer();
        match calls {
            Calls::Sequential => {
                for item in 1..=ITEMS {
                    self.quote_item(item);
                }
            }
            Calls::Concurrent => {
                let cx = Context::current();
                thread::scope(|scope| {
                    for item in 1..=ITEMS {
                        let cx = cx.clone();
                        scope.spawn(move || {
                            let _active = cx.attach();
                            self.quote_item(item);
                        });
                    }
                });
            }
        }
        self.read_price_cache(number);
        Ok(format!("order {number} placed: {ITEMS} items quoted\n"))
    }

    fn load_customer(&self) {
        self.tracer.in_span("load_customer", |_cx| {
            let connection = self.tracer.in_span("wait_for_connection", |_cx| {
                self.connection
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
            });
            self.client_span(
                "SELECT customers",
                QUERY_TIME,
                vec![KeyValue::new("db.system.name", "lab")],
            );
            drop(connection);
        });
    }

    fn quote_item(&self, item: u64) {
        self.client_span(
            "quote_item",
            QUOTE_TIME,
            vec![KeyValue::new("lab.item", item as i64)],
        );
    }

    fn read_price_cache(&self, number: u64) {
        self.tracer.in_span("read_price_cache", |cx| {
            let hit = number % CACHE_MISS_EVERY != 0;
            cx.span().set_attribute(KeyValue::new("lab.cache.hit", hit));
            if !hit {
                self.client_span("load_prices", PRICE_LOAD_TIME, vec![]);
            }
        });
    }

    /// A CLIENT span that lasts `time`: a call this route waits for.
    fn client_span(&self, name: &'static str, time: Duration, attributes: Vec<KeyValue>) {
        let span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Client)
            .with_attributes(attributes)
            .start(&*self.tracer);
        let cx = Context::current().with_span(span);
        thread::sleep(time);
        cx.span().end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use opentelemetry::trace::{SpanId, TracerProvider as _};
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
    use std::sync::Arc;
    use std::time::Instant;

    fn orders() -> (Arc<Orders>, InMemorySpanExporter, SdkTracerProvider) {
        let (tracer, exporter, provider) = crate::telemetry::in_memory_tracer();
        (Arc::new(Orders::new(tracer, 2)), exporter, provider)
    }

    fn place_in_a_root(provider: &SdkTracerProvider, orders: &Orders, calls: Calls) -> Duration {
        let started = Instant::now();
        provider
            .tracer("root")
            .in_span("GET /order", |_cx| orders.place(calls).unwrap());
        started.elapsed()
    }

    fn named<'a>(spans: &'a [SpanData], name: &str) -> Vec<&'a SpanData> {
        spans.iter().filter(|span| span.name == name).collect()
    }

    #[test]
    fn the_steps_nest_under_the_request_and_the_quotes_form_a_staircase() {
        let (orders, exporter, provider) = orders();
        let took = place_in_a_root(&provider, &orders, Calls::Sequential);
        let spans = exporter.get_finished_spans().unwrap();
        let root = named(&spans, "GET /order")[0].span_context.span_id();
        for step in ["load_customer", "read_price_cache"] {
            assert_eq!(named(&spans, step)[0].parent_span_id, root, "{step}");
        }
        let load = named(&spans, "load_customer")[0].span_context.span_id();
        assert_eq!(named(&spans, "wait_for_connection")[0].parent_span_id, load);
        assert_eq!(named(&spans, "SELECT customers")[0].parent_span_id, load);
        let mut quotes = named(&spans, "quote_item");
        assert_eq!(quotes.len(), ITEMS as usize);
        quotes.sort_by_key(|span| span.start_time);
        for pair in quotes.windows(2) {
            assert!(pair[1].start_time >= pair[0].end_time, "one after another");
            assert_eq!(pair[0].parent_span_id, root);
        }
        let least = QUERY_TIME + QUOTE_TIME * ITEMS as u32;
        assert!(took >= least, "{took:?} < {least:?}");
    }

    #[test]
    fn concurrent_quotes_overlap_and_the_request_is_shorter() {
        let (orders, exporter, provider) = orders();
        place_in_a_root(&provider, &orders, Calls::Concurrent);
        let spans = exporter.get_finished_spans().unwrap();
        let root = named(&spans, "GET /order")[0].span_context.span_id();
        let quotes = named(&spans, "quote_item");
        assert_eq!(quotes.len(), ITEMS as usize);
        assert!(
            quotes.iter().all(|span| span.parent_span_id == root),
            "still children of the request"
        );
        let last_start = quotes.iter().map(|span| span.start_time).max().unwrap();
        let first_end = quotes.iter().map(|span| span.end_time).min().unwrap();
        assert!(last_start < first_end, "the quotes overlap");
        assert_ne!(root, SpanId::INVALID);
    }

    #[test]
    fn every_third_order_misses_the_cache() {
        let (orders, exporter, provider) = orders();
        for _ in 0..3 {
            place_in_a_root(&provider, &orders, Calls::Concurrent);
        }
        let spans = exporter.get_finished_spans().unwrap();
        assert_eq!(named(&spans, "load_prices").len(), 1);
        assert_eq!(named(&spans, "read_price_cache").len(), 3);
    }

    #[test]
    fn past_the_cap_an_order_is_refused_at_once() {
        let (orders, _, _) = orders();
        let holders: Vec<_> = (0..2)
            .map(|_| {
                let orders = orders.clone();
                thread::spawn(move || orders.place(Calls::Sequential))
            })
            .collect();
        thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        assert_eq!(orders.place(Calls::Sequential), Err(Busy(2)));
        assert!(started.elapsed() < Duration::from_millis(20));
        for holder in holders {
            assert!(holder.join().unwrap().is_ok());
        }
    }
}
