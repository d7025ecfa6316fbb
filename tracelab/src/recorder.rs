//! A span exporter that keeps what reaches it: what the checks hand a student's pipeline (lesson
//! 02) or the shop's services (lesson 08) to see the spans they export.

use std::sync::{Arc, Mutex};

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

/// A span exporter that keeps what reaches it, and the resource its provider gave it: the check
/// hands one to the student's pipeline, to see what the pipeline does with it.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    spans: Arc<Mutex<Vec<SpanData>>>,
    resource: Arc<Mutex<Option<Resource>>>,
}

impl Recorder {
    /// The spans exported to it so far.
    pub fn spans(&self) -> Vec<SpanData> {
        self.spans
            .lock()
            .map(|spans| spans.clone())
            .unwrap_or_default()
    }

    /// `service.name` of the resource its provider gave it, if any.
    pub fn service_name(&self) -> Option<String> {
        let resource = self.resource.lock().ok()?.clone()?;
        resource
            .get(&opentelemetry::Key::new("service.name"))
            .map(|value| value.to_string())
    }
}

impl SpanExporter for Recorder {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        if let Ok(mut spans) = self.spans.lock() {
            spans.extend(batch);
        }
        Ok(())
    }

    fn set_resource(&mut self, resource: &Resource) {
        if let Ok(mut kept) = self.resource.lock() {
            *kept = Some(resource.clone());
        }
    }
}
