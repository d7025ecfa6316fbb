//! Helpers for the lab's notebooks, pulled in with
//! `:dep tracelab = { path = "../tracelab" }`.
//!
//! The OpenTelemetry calls a student has to learn stay in the notebook cells. What is here is the
//! part nobody should type in a notebook: drawing finished spans as a trace waterfall
//! ([`waterfall`]), checking an exercise's spans with messages that say what is wrong
//! ([`check`]), and fetching a trace back from Jaeger's query API to draw it the same way
//! ([`jaeger`]). All three work on one small model of a span, [`model::TraceSpan`].

pub mod check;
pub mod jaeger;
pub mod model;
pub mod waterfall;

pub use model::TraceSpan;
pub use waterfall::Waterfall;
