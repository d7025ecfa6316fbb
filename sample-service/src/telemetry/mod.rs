//! Builds the tracer provider from [`TelemetryConfig`] and owns its shutdown.
//!
//! Spans leave through batch span processors only, so a request never waits on STDOUT or on the
//! network: ending a span puts it on a bounded queue (8192 spans by default, `OTEL_BSP_*` change
//! it) that a background thread drains. The OTLP path is wrapped by the counters of
//! [`delivery`], which report lost spans instead of losing them silently. Shutting down is
//! bounded by one deadline, whatever the collector does.

pub mod delivery;

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::noop::NoopTracer;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{Key, Value};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, Sampler, SdkTracerProvider,
};
use opentelemetry_sdk::Resource;
use opentelemetry_semantic_conventions::resource::SERVICE_NAME;

use crate::config::{BatchConfig, OtlpConfig, OtlpProtocol, SamplerConfig, TelemetryConfig};
use delivery::{CountingExporter, CountingProcessor, DeliveryStats, DeliverySummary};

/// The instrumentation scope name of every span this service creates.
pub const TRACER_NAME: &str = "sample-service";

/// A tracer that any request thread can use; a no-op one when the SDK is disabled.
pub type SharedTracer = Arc<BoxedTracer>;

/// For the unit tests: a tracer whose spans go, one by one as they end, to the in-memory
/// exporter returned with it (and the provider, to flush or shut down).
#[cfg(test)]
pub(crate) fn in_memory_tracer() -> (
    SharedTracer,
    opentelemetry_sdk::trace::InMemorySpanExporter,
    SdkTracerProvider,
) {
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer: SharedTracer = Arc::new(BoxedTracer::new(Box::new(provider.tracer("test"))));
    (tracer, exporter, provider)
}

/// The telemetry could not be set up or shut down cleanly.
#[derive(Debug, thiserror::Error)]
pub enum TelemetryError {
    #[error("could not start the threads the exporters need: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("could not build the OTLP {protocol} exporter for {endpoint}: {source}")]
    Exporter {
        protocol: &'static str,
        endpoint: String,
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
    #[error("spans may be lost: flushing the tracer provider failed: {0}")]
    Flush(#[source] opentelemetry_sdk::error::OTelSdkError),
    #[error("spans may be lost: shutting the tracer provider down failed: {0}")]
    Shutdown(#[source] opentelemetry_sdk::error::OTelSdkError),
    #[error("spans may be lost: the spans still queued were not all sent within {0:?}")]
    Deadline(Duration),
}

/// How a shutdown went: what happened to the spans sent over OTLP (when OTLP is on), and whether
/// every queued span was sent.
#[derive(Debug)]
pub struct ShutdownReport {
    pub summary: Option<DeliverySummary>,
    pub outcome: Result<(), TelemetryError>,
}

/// The running telemetry pipeline.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    tracer: SharedTracer,
    delivery: Option<Arc<DeliveryStats>>,
    service_name: String,
    /// Drives the gRPC exporter's connection; must outlive the provider (see `shutdown`).
    runtime: Option<tokio::runtime::Runtime>,
}

impl Telemetry {
    /// Builds the provider and its exporters. Nothing here connects to the collector yet:
    /// a collector that is down costs spans later, never the start of the service.
    pub fn init(config: &TelemetryConfig) -> Result<Telemetry, TelemetryError> {
        let resource = resource(config.default_service_name);
        let service_name = resource
            .get(&Key::from_static_str(SERVICE_NAME))
            .map(|value| value.to_string())
            .unwrap_or_default();

        if config.sdk_disabled {
            return Ok(Telemetry {
                provider: None,
                tracer: Arc::new(BoxedTracer::new(Box::new(NoopTracer::new()))),
                delivery: None,
                service_name,
                runtime: None,
            });
        }

        let mut builder = SdkTracerProvider::builder()
            .with_resource(resource)
            .with_sampler(sampler(config.sampler));
        if config.console {
            builder = builder.with_span_processor(
                BatchSpanProcessor::builder(opentelemetry_stdout::SpanExporter::default())
                    .with_batch_config(batch_config(config.batch))
                    .build(),
            );
        }
        let mut runtime = None;
        let mut delivery = None;
        if let Some(otlp) = &config.otlp {
            let stats = DeliveryStats::new(
                format!("{} ({})", otlp.endpoint_for_logs(), otlp.protocol.as_str()),
                config.batch.max_queue_size,
            );
            DeliveryStats::report_in_background(&stats).map_err(TelemetryError::Runtime)?;
            let exporter = match otlp.protocol {
                OtlpProtocol::Grpc => {
                    let rt = grpc_runtime()?;
                    // The tonic channel binds to the runtime that is current when it is built.
                    let exporter = {
                        let _entered = rt.enter();
                        build_grpc_exporter(otlp)?
                    };
                    runtime = Some(rt);
                    exporter
                }
                OtlpProtocol::HttpProtobuf => build_http_exporter(otlp)?,
            };
            let processor =
                BatchSpanProcessor::builder(CountingExporter::new(exporter, stats.clone()))
                    .with_batch_config(batch_config(config.batch))
                    .build();
            builder = builder.with_span_processor(CountingProcessor::new(processor, stats.clone()));
            delivery = Some(stats);
        }
        let provider = builder.build();
        let tracer = Arc::new(BoxedTracer::new(Box::new(provider.tracer(TRACER_NAME))));
        Ok(Telemetry {
            provider: Some(provider),
            tracer,
            delivery,
            service_name,
            runtime,
        })
    }

    /// The tracer request handlers use.
    pub fn tracer(&self) -> SharedTracer {
        self.tracer.clone()
    }

    /// `service.name` as the spans will carry it.
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// Flushes every queued span, then shuts the provider down, all within `within`: past it,
    /// gives up on what is still queued (a collector that does not answer would otherwise hold
    /// the stop for as long as the exports' timeouts add up). The report has the span counts on
    /// every path.
    pub fn shutdown(mut self, within: Duration) -> ShutdownReport {
        let stats = self.delivery.clone();
        let report = |outcome| ShutdownReport {
            summary: stats.as_ref().map(|stats| stats.summary()),
            outcome,
        };
        let Some(provider) = self.provider.take() else {
            return report(Ok(()));
        };
        let runtime = self.runtime.take();
        let (done, finished) = mpsc::channel();
        let flushing = thread::Builder::new()
            .name("telemetry-shutdown".into())
            .spawn(move || {
                // `shutdown` alone reports success even when its last export failed; a flush first
                // surfaces that failure.
                let flushed = provider.force_flush().map_err(TelemetryError::Flush);
                let shut = provider
                    .shutdown_with_timeout(within)
                    .map_err(TelemetryError::Shutdown);
                // Only now may the gRPC runtime go: dropping it earlier fails the last exports
                // silently.
                if let Some(runtime) = runtime {
                    runtime.shutdown_timeout(Duration::from_secs(1));
                }
                let _ = done.send(flushed.and(shut));
            });
        if let Err(error) = flushing {
            return report(Err(TelemetryError::Runtime(error)));
        }
        match finished.recv_timeout(within) {
            Ok(outcome) => report(outcome),
            Err(_) => report(Err(TelemetryError::Deadline(within))),
        }
    }
}

fn batch_config(config: BatchConfig) -> opentelemetry_sdk::trace::BatchConfig {
    BatchConfigBuilder::default()
        .with_max_queue_size(config.max_queue_size)
        .with_scheduled_delay(config.scheduled_delay)
        .with_max_export_batch_size(config.max_export_batch_size)
        .build()
}

/// The service's resource: whatever `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` say, with
/// the lab's default name when neither names the service (the SDK would say `unknown_service`).
fn resource(default_service_name: &'static str) -> Resource {
    let from_env = Resource::builder().build();
    let named = from_env
        .get(&Key::from_static_str(SERVICE_NAME))
        .is_some_and(|name| !name.as_str().starts_with("unknown_service"));
    if named {
        from_env
    } else {
        Resource::builder()
            .with_service_name(Value::from(default_service_name))
            .build()
    }
}

fn sampler(config: SamplerConfig) -> Sampler {
    let parent_based = |root: Sampler| Sampler::ParentBased(Box::new(root));
    match config {
        SamplerConfig::AlwaysOn => Sampler::AlwaysOn,
        SamplerConfig::AlwaysOff => Sampler::AlwaysOff,
        SamplerConfig::TraceIdRatio(ratio) => Sampler::TraceIdRatioBased(ratio),
        SamplerConfig::ParentBasedAlwaysOn => parent_based(Sampler::AlwaysOn),
        SamplerConfig::ParentBasedAlwaysOff => parent_based(Sampler::AlwaysOff),
        SamplerConfig::ParentBasedTraceIdRatio(ratio) => {
            parent_based(Sampler::TraceIdRatioBased(ratio))
        }
    }
}

fn grpc_runtime() -> Result<tokio::runtime::Runtime, TelemetryError> {
    // One worker is plenty for one gRPC connection; multi-thread so that it runs by itself
    // (a current-thread runtime nothing drives would hang every export until its timeout).
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("otlp-grpc")
        .enable_all()
        .build()
        .map_err(TelemetryError::Runtime)
}

fn build_grpc_exporter(
    otlp: &OtlpConfig,
) -> Result<opentelemetry_otlp::SpanExporter, TelemetryError> {
    opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(otlp.endpoint.as_str())
        .with_timeout(otlp.timeout)
        .build()
        .map_err(|source| exporter_error(otlp, source))
}

fn build_http_exporter(
    otlp: &OtlpConfig,
) -> Result<opentelemetry_otlp::SpanExporter, TelemetryError> {
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(otlp.endpoint.as_str())
        .with_timeout(otlp.timeout)
        .build()
        .map_err(|source| exporter_error(otlp, source))
}

fn exporter_error(
    otlp: &OtlpConfig,
    source: opentelemetry_otlp::ExporterBuildError,
) -> TelemetryError {
    TelemetryError::Exporter {
        protocol: otlp.protocol.as_str(),
        endpoint: otlp.endpoint_for_logs(),
        source,
    }
}
