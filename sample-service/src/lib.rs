//! The lab's instrumented web service: the Rust twin of the original Flask app.
//!
//! One request's path through the crate, one module per step:
//! [`config`] (environment, checked once) -> [`telemetry`] (the tracer provider and its
//! shutdown) -> [`server`] (rouille, graceful stop) -> [`http_tracing`] (a SERVER span around
//! every request) -> [`routes`] (plain handlers). The notebooks reuse these modules rather than
//! copy them.

pub mod config;
pub mod downstream;
pub mod healthcheck;
pub mod http_tracing;
pub mod routes;
pub mod server;
pub mod signals;
pub mod telemetry;
