//! Counts what happens to the spans sent over OTLP, so that lost spans are reported, not silent.
//!
//! The SDK's batch processor drops a batch when its export fails and drops new spans when its
//! queue is full, and says so only through its internal logs. A student whose collector is down
//! should instead see one line that counts what was lost and says what to do. No library does
//! this bookkeeping, so it is written here: a [`CountingProcessor`] counts spans as they end, a
//! [`CountingExporter`] counts spans that reached the collector or failed to, and
//! [`DeliveryStats`] turns the counts into log lines.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

/// How often at most a "still failing" line is printed while the collector stays unreachable.
const FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The counters shared by the processor, the exporter and the shutdown report.
#[derive(Debug)]
pub struct DeliveryStats {
    destination: String,
    ended: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    failing: AtomicBool,
    last_failure_log: Mutex<Option<Instant>>,
    log: fn(&str),
}

/// The counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySummary {
    /// Spans that ended and were handed to the batch processor.
    pub ended: u64,
    /// Spans the collector accepted.
    pub delivered: u64,
    /// Spans in batches whose export failed.
    pub failed: u64,
}

impl DeliverySummary {
    /// Spans neither delivered nor failed: still queued while running, and after a completed
    /// shutdown the ones the full queue dropped.
    pub fn unaccounted(&self) -> u64 {
        self.ended.saturating_sub(self.delivered + self.failed)
    }
}

impl fmt::Display for DeliverySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spans ended, {} delivered, {} lost in failed exports, {} dropped because the export queue was full",
            self.ended,
            self.delivered,
            self.failed,
            self.unaccounted()
        )
    }
}

impl DeliveryStats {
    /// Counters for spans sent to `destination` (shown in log lines), logging to stderr.
    pub fn new(destination: impl Into<String>) -> Arc<DeliveryStats> {
        DeliveryStats::with_log(destination, |line| eprintln!("{line}"))
    }

    fn with_log(destination: impl Into<String>, log: fn(&str)) -> Arc<DeliveryStats> {
        Arc::new(DeliveryStats {
            destination: destination.into(),
            ended: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            failing: AtomicBool::new(false),
            last_failure_log: Mutex::new(None),
            log,
        })
    }

    pub fn summary(&self) -> DeliverySummary {
        DeliverySummary {
            ended: self.ended.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    fn record_success(&self, spans: u64) {
        self.delivered.fetch_add(spans, Ordering::Relaxed);
        if self.failing.swap(false, Ordering::Relaxed) {
            (self.log)(&format!(
                "telemetry: export to {} works again; {} spans were lost while it failed",
                self.destination,
                self.failed.load(Ordering::Relaxed)
            ));
        }
    }

    fn record_failure(&self, spans: u64, error: &dyn fmt::Display) {
        let lost = self.failed.fetch_add(spans, Ordering::Relaxed) + spans;
        let first = !self.failing.swap(true, Ordering::Relaxed);
        let mut last = self
            .last_failure_log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let due = last.is_none_or(|at| at.elapsed() >= FAILURE_LOG_INTERVAL);
        if first || due {
            *last = Some(Instant::now());
            (self.log)(&format!(
                "telemetry: could not export {spans} spans to {}: {error}; {lost} spans lost so far. \
                 Requests are still served; is the collector running? Export resumes when it answers.",
                self.destination
            ));
        }
    }
}

/// Wraps a span processor and counts the spans that end.
#[derive(Debug)]
pub struct CountingProcessor<P> {
    inner: P,
    stats: Arc<DeliveryStats>,
}

impl<P: SpanProcessor> CountingProcessor<P> {
    pub fn new(inner: P, stats: Arc<DeliveryStats>) -> Self {
        CountingProcessor { inner, stats }
    }
}

impl<P: SpanProcessor> SpanProcessor for CountingProcessor<P> {
    fn on_start(&self, span: &mut Span, cx: &Context) {
        self.inner.on_start(span, cx);
    }

    fn on_end(&self, span: SpanData) {
        self.stats.ended.fetch_add(1, Ordering::Relaxed);
        self.inner.on_end(span);
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// Wraps a span exporter and counts the spans it delivered or failed to deliver.
#[derive(Debug)]
pub struct CountingExporter<E> {
    inner: E,
    stats: Arc<DeliveryStats>,
}

impl<E: SpanExporter> CountingExporter<E> {
    pub fn new(inner: E, stats: Arc<DeliveryStats>) -> Self {
        CountingExporter { inner, stats }
    }
}

impl<E: SpanExporter> SpanExporter for CountingExporter<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let spans = batch.len() as u64;
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => self.stats.record_success(spans),
            Err(error) => self.stats.record_failure(spans, error),
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{Tracer, TracerProvider};
    use opentelemetry_sdk::error::OTelSdkError;
    use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor};
    use std::sync::atomic::AtomicUsize;

    /// An exporter that fails while `down` is set, like a collector that is not running.
    #[derive(Debug, Clone, Default)]
    struct FlakyExporter {
        down: Arc<AtomicBool>,
        received: Arc<AtomicUsize>,
    }

    impl SpanExporter for FlakyExporter {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            if self.down.load(Ordering::SeqCst) {
                return Err(OTelSdkError::InternalFailure("connection refused".into()));
            }
            self.received.fetch_add(batch.len(), Ordering::SeqCst);
            Ok(())
        }
    }

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn remember(line: &str) {
        LINES.lock().unwrap().push(line.to_owned());
    }

    #[test]
    fn counts_delivered_and_failed_spans_and_says_when_export_resumes() {
        let stats = DeliveryStats::with_log("http://collector:4318", remember);
        let exporter = FlakyExporter::default();
        let processor = CountingProcessor::new(
            SimpleSpanProcessor::new(CountingExporter::new(exporter.clone(), stats.clone())),
            stats.clone(),
        );
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .build();
        let tracer = provider.tracer("test");

        tracer.in_span("before", |_| {});
        exporter.down.store(true, Ordering::SeqCst);
        for _ in 0..3 {
            tracer.in_span("while down", |_| {});
        }
        exporter.down.store(false, Ordering::SeqCst);
        tracer.in_span("after", |_| {});
        provider.shutdown().unwrap();

        let summary = stats.summary();
        assert_eq!(
            summary,
            DeliverySummary {
                ended: 5,
                delivered: 2,
                failed: 3
            }
        );
        assert_eq!(summary.unaccounted(), 0);
        assert_eq!(exporter.received.load(Ordering::SeqCst), 2);

        let lines = LINES.lock().unwrap().clone();
        assert_eq!(
            lines.len(),
            2,
            "one failure line, one recovery line: {lines:?}"
        );
        assert!(lines[0].contains("could not export 1 spans to http://collector:4318"));
        assert!(lines[0].contains("connection refused"));
        assert!(lines[0].contains("1 spans lost so far"));
        assert!(lines[1].contains("works again; 3 spans were lost"));
        assert_eq!(
            summary.to_string(),
            "5 spans ended, 2 delivered, 3 lost in failed exports, 0 dropped because the export queue was full"
        );
    }
}
