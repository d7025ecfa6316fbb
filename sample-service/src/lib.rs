//! The lab's instrumented web service: the Rust twin of the original Flask app.
//!
//! One request's path through the crate, one module per step:
//! [`config`] (environment, checked once) -> [`telemetry`] (the tracer provider and its
//! bounded shutdown) -> [`server`] (rouille, a watchdog, the stop) -> [`app`] (the wiring) ->
//! [`http_tracing`] (a SERVER span around every request, with [`propagation`]) -> [`routes`]
//! (plain handlers; `/chain` through [`downstream`], `/order` in [`order`]).

pub mod app;
pub mod config;
pub mod downstream;
pub mod healthcheck;
pub mod http_tracing;
pub mod limit;
pub mod matched_route;
pub mod order;
pub mod probe;
pub mod propagation;
pub mod routes;
pub mod server;
pub mod signals;
pub mod telemetry;
