//! Counts what happens to the spans sent over OTLP, so that lost spans are reported, not silent.
//!
//! The SDK's batch processor drops a batch when its export fails and drops new spans when its
//! queue is full, and says so only through its internal logs (the queue's drops only at
//! shutdown). A student whose collector is down should instead see a line that counts what was
//! lost and says what to do. No library does this bookkeeping, so it is written here:
//!
//! - a [`CountingProcessor`] counts spans as they end, and admits one to the batch processor's
//!   queue only while fewer spans than the queue holds are waiting: a span that would not fit is
//!   dropped here, and counted, instead of silently in the SDK (so the count is exact);
//! - a [`CountingExporter`] counts the spans that reached the collector or failed to;
//! - [`DeliveryStats`] turns the counts into log lines: when losses start, when exports start
//!   failing, then at most one line every ten seconds while more is lost, and one when exports
//!   work again; never more than one line a second.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};
use opentelemetry_sdk::Resource;

/// How often a line about more lost spans is printed while the losses go on.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);
/// How often the reporter looks at the counters: at most one line each time.
const REPORT_TICK: Duration = Duration::from_secs(1);

/// The counters shared by the processor, the exporter and the shutdown report.
#[derive(Debug)]
pub struct DeliveryStats {
    destination: String,
    /// Spans the batch processor's queue can hold.
    queue_capacity: u64,
    ended: AtomicU64,
    /// Spans handed to the batch processor.
    admitted: AtomicU64,
    delivered: AtomicU64,
    failed: AtomicU64,
    /// Spans not admitted because the queue was full.
    dropped: AtomicU64,
    /// The last export failed, with this error.
    failing: Mutex<Option<String>>,
    log_state: Mutex<LogState>,
    log: fn(&str),
}

/// What the log lines have said so far.
#[derive(Debug, Default)]
struct LogState {
    /// When the last line about losses was printed, and how many spans had been lost then.
    last_loss_line: Option<(Instant, u64)>,
    /// A line has said that exports fail, and no line has said they work again.
    failure_reported: bool,
}

/// The counts at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliverySummary {
    /// Spans that ended.
    pub ended: u64,
    /// Spans the collector accepted.
    pub delivered: u64,
    /// Spans in batches whose export failed.
    pub failed: u64,
    /// Spans dropped because the export queue was full.
    pub dropped: u64,
}

impl DeliverySummary {
    /// Spans neither delivered, failed nor dropped: still queued or being exported.
    pub fn queued(&self) -> u64 {
        self.ended
            .saturating_sub(self.delivered + self.failed + self.dropped)
    }

    /// Spans that will never reach the collector.
    pub fn lost(&self) -> u64 {
        self.failed + self.dropped
    }
}

impl fmt::Display for DeliverySummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} spans ended, {} delivered, {} lost in failed exports, {} dropped because the export queue was full",
            self.ended, self.delivered, self.failed, self.dropped
        )?;
        if self.queued() > 0 {
            write!(f, ", {} never sent", self.queued())?;
        }
        Ok(())
    }
}

impl DeliveryStats {
    /// Counters for spans sent to `destination` (shown in log lines) through a queue of
    /// `queue_capacity` spans, logging to stderr.
    pub fn new(destination: impl Into<String>, queue_capacity: usize) -> Arc<DeliveryStats> {
        DeliveryStats::with_log(destination, queue_capacity, |line| eprintln!("{line}"))
    }

    fn with_log(
        destination: impl Into<String>,
        queue_capacity: usize,
        log: fn(&str),
    ) -> Arc<DeliveryStats> {
        Arc::new(DeliveryStats {
            destination: destination.into(),
            queue_capacity: queue_capacity as u64,
            ended: AtomicU64::new(0),
            admitted: AtomicU64::new(0),
            delivered: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failing: Mutex::new(None),
            log_state: Mutex::new(LogState::default()),
            log,
        })
    }

    /// Starts the thread that prints what was lost, once a second at most, for as long as these
    /// counters are in use.
    pub fn report_in_background(stats: &Arc<DeliveryStats>) -> std::io::Result<()> {
        let stats = Arc::downgrade(stats);
        std::thread::Builder::new()
            .name("telemetry-report".into())
            .spawn(move || loop {
                std::thread::sleep(REPORT_TICK);
                match stats.upgrade() {
                    Some(stats) => stats.report(Instant::now()),
                    None => return,
                }
            })
            .map(|_| ())
    }

    pub fn summary(&self) -> DeliverySummary {
        DeliverySummary {
            ended: self.ended.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }

    /// Takes a place in the queue for one span, or says there is none. Spans taken out of the
    /// queue are delivered or failed; `admitted` minus those is at least what the queue holds, so
    /// the SDK's queue never overflows and never drops a span on its own.
    fn admit(&self) -> bool {
        let mut admitted = self.admitted.load(Ordering::Acquire);
        loop {
            let done = self.delivered.load(Ordering::Acquire) + self.failed.load(Ordering::Acquire);
            if admitted.saturating_sub(done) >= self.queue_capacity {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            match self.admitted.compare_exchange_weak(
                admitted,
                admitted + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => admitted = now,
            }
        }
    }

    fn failing(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.failing
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn record_success(&self, spans: u64) {
        self.delivered.fetch_add(spans, Ordering::Release);
        *self.failing() = None;
    }

    fn record_failure(&self, spans: u64, error: &dyn fmt::Display) {
        self.failed.fetch_add(spans, Ordering::Release);
        *self.failing() = Some(error.to_string());
    }

    /// Prints at most one line about the counters as they are at `now`: that exports fail (as
    /// soon as they do), that exports work again, or, at most every [`LOG_INTERVAL`], that more
    /// spans were lost.
    fn report(&self, now: Instant) {
        let summary = self.summary();
        let failing = self.failing().clone();
        let mut state = self
            .log_state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let lost_more = match state.last_loss_line {
            None => summary.lost() > 0,
            Some((at, lost_then)) => {
                summary.lost() > lost_then && now.duration_since(at) >= LOG_INTERVAL
            }
        };
        let line = match (&failing, state.failure_reported) {
            (None, true) => {
                state.failure_reported = false;
                format!(
                    "telemetry: export to {} works again; {} spans were lost while it failed",
                    self.destination,
                    summary.lost()
                )
            }
            (Some(error), reported) if !reported || lost_more => {
                state.failure_reported = true;
                state.last_loss_line = Some((now, summary.lost()));
                format!(
                    "telemetry: could not export spans to {}: {error}; {}",
                    self.destination,
                    self.losses(&summary)
                )
            }
            (None, false) if lost_more => {
                state.last_loss_line = Some((now, summary.lost()));
                format!(
                    "telemetry: the export queue ({} spans) was full: {} takes spans slower than \
                     they end; {}",
                    self.queue_capacity,
                    self.destination,
                    self.losses(&summary)
                )
            }
            _ => return,
        };
        (self.log)(&line);
    }

    fn losses(&self, summary: &DeliverySummary) -> String {
        format!(
            "so far {} spans lost in failed exports and {} dropped from the full queue. Requests \
             are still served; is the collector running? Export resumes when it answers.",
            summary.failed, summary.dropped
        )
    }
}

/// Wraps a span processor: counts the spans that end, and admits them while the queue has room.
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
        if self.stats.admit() {
            self.inner.on_end(span);
        }
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
    use opentelemetry_sdk::trace::{
        BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SimpleSpanProcessor,
    };
    use std::sync::atomic::{AtomicBool, AtomicUsize};

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

    /// An exporter that holds every batch until `release` is set, like a slow collector.
    #[derive(Debug, Clone, Default)]
    struct StuckExporter {
        release: Arc<AtomicBool>,
        received: Arc<AtomicUsize>,
    }

    impl SpanExporter for StuckExporter {
        async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
            while !self.release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            self.received.fetch_add(batch.len(), Ordering::SeqCst);
            Ok(())
        }
    }

    fn quiet(_: &str) {}

    #[test]
    fn a_full_queue_drops_here_and_counts_exactly() {
        const QUEUE: usize = 50;
        const SPANS: usize = 1_000;
        let stats = DeliveryStats::with_log("http://slow:4318", QUEUE, quiet);
        let exporter = StuckExporter::default();
        let batch =
            BatchSpanProcessor::builder(CountingExporter::new(exporter.clone(), stats.clone()))
                .with_batch_config(
                    BatchConfigBuilder::default()
                        .with_max_queue_size(QUEUE)
                        .with_max_export_batch_size(10)
                        .with_scheduled_delay(Duration::from_millis(10))
                        .build(),
                )
                .build();
        let provider = SdkTracerProvider::builder()
            .with_span_processor(CountingProcessor::new(batch, stats.clone()))
            .build();
        let tracer = provider.tracer("test");
        for _ in 0..SPANS {
            tracer.in_span("burst", |_| {});
        }
        exporter.release.store(true, Ordering::SeqCst);
        provider.shutdown().unwrap();

        let summary = stats.summary();
        assert_eq!(summary.ended, SPANS as u64);
        assert_eq!(summary.failed, 0);
        assert_eq!(
            summary.delivered + summary.dropped,
            SPANS as u64,
            "every span delivered or counted as dropped: {summary}"
        );
        assert_eq!(
            summary.delivered,
            exporter.received.load(Ordering::SeqCst) as u64
        );
        assert!(
            summary.delivered <= QUEUE as u64 + 10,
            "at most the queue and one batch got through: {summary}"
        );
        assert!(summary.dropped >= (SPANS - QUEUE - 10) as u64, "{summary}");
    }

    #[test]
    fn counts_delivered_and_failed_spans() {
        let stats = DeliveryStats::with_log("http://collector:4318", 2048, quiet);
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
                failed: 3,
                dropped: 0
            }
        );
        assert_eq!(summary.queued(), 0);
        assert_eq!(exporter.received.load(Ordering::SeqCst), 2);
        assert_eq!(
            summary.to_string(),
            "5 spans ended, 2 delivered, 3 lost in failed exports, 0 dropped because the export queue was full"
        );
        let mid_export = DeliverySummary {
            ended: 10,
            delivered: 4,
            failed: 1,
            dropped: 2,
        };
        assert_eq!(mid_export.queued(), 3);
        assert!(mid_export.to_string().ends_with(", 3 never sent"));
    }

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    fn remember(line: &str) {
        LINES.lock().unwrap().push(line.to_owned());
    }

    fn lines_since(start: usize) -> Vec<String> {
        LINES.lock().unwrap()[start..].to_vec()
    }

    #[test]
    fn the_reporter_says_what_changed_at_most_once_a_tick_and_repeats_every_ten_seconds() {
        let stats = DeliveryStats::with_log("http://collector:4318", 4, remember);
        let t0 = Instant::now();
        let at = |seconds: u64| t0 + Duration::from_secs(seconds);

        stats.report(at(1));
        assert!(lines_since(0).is_empty(), "nothing lost, nothing said");

        // The queue fills (a slow collector): said once, then every ten seconds while it goes on.
        for _ in 0..10 {
            if stats.admit() {
                stats.ended.fetch_add(1, Ordering::Relaxed);
            }
        }
        stats.report(at(2));
        stats.report(at(3));
        let said = lines_since(0);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains("the export queue (4 spans) was full"),
            "{said:?}"
        );
        assert!(
            said[0].contains("0 spans lost in failed exports and 6 dropped"),
            "{said:?}"
        );

        // Exports start failing: said at once, though the last line is a second old.
        stats.record_failure(4, &"connection refused");
        stats.report(at(4));
        // Failing on and on: one line per ten seconds, and only when more was lost.
        for second in 5..14 {
            stats.record_failure(1, &"connection refused");
            stats.report(at(second));
        }
        stats.report(at(14));
        stats.report(at(30));
        let said = lines_since(1);
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].starts_with("telemetry: could not export spans to http://collector:4318: connection refused; so far 4 spans lost in failed exports and 6 dropped"),
            "{said:?}"
        );
        assert!(
            said[1].contains("so far 13 spans lost in failed exports"),
            "{said:?}"
        );

        // Export works again: said once.
        stats.record_success(2);
        stats.report(at(31));
        stats.report(at(32));
        let said = lines_since(3);
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].contains("works again; 19 spans were lost while it failed"),
            "{said:?}"
        );
    }
}
