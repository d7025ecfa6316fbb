//! The real OpenTelemetry collector the tests send to (rotel, from PyPI), and the spans it
//! received, read from its debug output.

use super::*;

/// The rotel binary: `$ROTEL_AGENT`, else the one inside the `rotel` Python package.
fn rotel_agent() -> PathBuf {
    if let Some(path) = std::env::var_os("ROTEL_AGENT") {
        return PathBuf::from(path);
    }
    let output = Command::new("python3")
        .args([
            "-c",
            "import os, rotel; print(os.path.join(os.path.dirname(rotel.__file__), 'rotel-agent'))",
        ])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "the rotel collector is not installed: run `bash .ci/run` or `pip install rotel` ({})",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    PathBuf::from(String::from_utf8(output.stdout).unwrap().trim())
}

/// A real OpenTelemetry collector on loopback that logs every span it receives.
pub struct Collector {
    pub process: Process,
    pub grpc_port: u16,
    pub http_port: u16,
}

impl Collector {
    /// Starts a collector listening on fresh ports.
    pub fn start() -> Collector {
        Collector::start_on(free_port(), free_port())
    }

    /// Starts a collector on the given ports (to bring one back where a service expects it).
    pub fn start_on(grpc_port: u16, http_port: u16) -> Collector {
        let mut command = Command::new(rotel_agent());
        command.args([
            "start",
            "--otlp-grpc-endpoint",
            &format!("127.0.0.1:{grpc_port}"),
            "--otlp-http-endpoint",
            &format!("127.0.0.1:{http_port}"),
            "--exporter",
            "blackhole",
            "--debug-log",
            "traces",
            "--debug-log-verbosity",
            "detailed",
        ]);
        let process = Process::spawn(command);
        wait_for_port(grpc_port, "the collector's gRPC port");
        wait_for_port(http_port, "the collector's HTTP port");
        Collector {
            process,
            grpc_port,
            http_port,
        }
    }

    pub fn endpoint(&self, protocol: &str) -> String {
        match protocol {
            "grpc" => format!("http://127.0.0.1:{}", self.grpc_port),
            _ => format!("http://127.0.0.1:{}", self.http_port),
        }
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        parse_debug_output(&self.process.stdout.snapshot())
    }

    /// Waits until `ready` holds for the spans received, and returns them.
    pub fn wait_for_spans(
        &self,
        what: &str,
        ready: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> Vec<ReceivedSpan> {
        wait_until(what, || {
            let spans = self.spans();
            ready(&spans).then_some(spans)
        })
    }
}

/// One span as the collector's debug log printed it.
#[derive(Debug, Clone, Default)]
pub struct ReceivedSpan {
    pub service_name: String,
    pub trace_id: String,
    pub parent_id: String,
    pub span_id: String,
    pub name: String,
    pub kind: String,
    pub status_code: String,
    /// Nanoseconds since the Unix epoch.
    pub start_ns: u128,
    pub end_ns: u128,
    pub attributes: HashMap<String, String>,
}

impl ReceivedSpan {
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// Parses the collector's `--debug-log-verbosity detailed` output (the OpenTelemetry
/// Collector's debug exporter format): `Resource attributes:` then `Span #N` blocks.
fn parse_debug_output(lines: &[String]) -> Vec<ReceivedSpan> {
    enum Section {
        Resource,
        SpanAttributes,
        Other,
    }
    let mut spans: Vec<ReceivedSpan> = Vec::new();
    let mut service = String::new();
    let mut section = Section::Other;
    for line in lines {
        let trimmed = line.trim();
        if trimmed.starts_with("ResourceSpans #") {
            service.clear();
            section = Section::Other;
        } else if trimmed == "Resource attributes:" {
            section = Section::Resource;
        } else if trimmed.starts_with("Span #") {
            spans.push(ReceivedSpan {
                service_name: service.clone(),
                ..ReceivedSpan::default()
            });
            section = Section::Other;
        } else if trimmed == "Attributes:" {
            section = Section::SpanAttributes;
        } else if let Some(pair) = trimmed.strip_prefix("-> ") {
            let Some((key, value)) = pair.split_once(": ") else {
                continue;
            };
            // `Str(curl/8.5.0)` -> `curl/8.5.0`, `Int(200)` -> `200`
            let value = value
                .split_once('(')
                .map_or(value, |(_, rest)| rest.strip_suffix(')').unwrap_or(rest));
            match section {
                Section::Resource if key == "service.name" => service = value.to_owned(),
                Section::SpanAttributes => {
                    if let Some(span) = spans.last_mut() {
                        span.attributes.insert(key.to_owned(), value.to_owned());
                    }
                }
                _ => {}
            }
        } else if let (Some(span), Some((field, value))) =
            (spans.last_mut(), trimmed.split_once(':'))
        {
            let value = value.trim().to_owned();
            match field.trim() {
                "Trace ID" => span.trace_id = value,
                "Parent ID" => span.parent_id = value,
                "ID" => span.span_id = value,
                "Name" => span.name = value,
                "Kind" => span.kind = value,
                "Status code" => span.status_code = value,
                "Start time" => span.start_ns = value.parse().unwrap_or_default(),
                "End time" => span.end_ns = value.parse().unwrap_or_default(),
                "Events" | "Links" => section = Section::Other,
                _ => {}
            }
        }
    }
    spans
}
