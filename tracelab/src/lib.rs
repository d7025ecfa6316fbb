//! Helpers for the lab's notebooks, pulled in with
//! `:dep tracelab = { path = "../../../tracelab" }` (from `notebooks/<version>/<language>/`).
//!
//! The OpenTelemetry calls a student has to learn stay in the notebook cells. What is here is the
//! part nobody should type in a notebook: drawing finished spans as a trace waterfall
//! ([`waterfall`]), checking an exercise's spans with messages that say what is wrong
//! ([`check`]), and fetching a trace back from Jaeger's query API to draw it the same way
//! (`jaeger`, with the feature of that name). All three work on one small model of a span,
//! [`model::TraceSpan`]. And one thing that is not about tracing at all: running a notebook's web
//! app in the background (`serve`, with the feature of that name); and one request to a traced
//! service whose trace id it reads from the answer (`request`, with the feature `jaeger`). A
//! lesson asks only for the features it uses: each crate they pull in makes its cells slower.
//! Every message a student reads is written in English and in Brazilian Portuguese ([`lang`]).

pub mod check;
pub mod critical_path;
pub mod exercise;
mod html;
#[cfg(feature = "jaeger")]
pub mod jaeger;
pub mod lang;
pub mod lessons;
pub mod model;
pub mod recorder;
#[cfg(feature = "jaeger")]
pub mod request;
pub mod search;
#[cfg(feature = "serve")]
pub mod serve;
pub mod waterfall;

pub use critical_path::CriticalPath;
pub use lang::set_language;
#[cfg(feature = "jaeger")]
pub use lessons::lesson02;
#[cfg(feature = "logs")]
pub use lessons::lesson07;
pub use lessons::{lesson00, lesson01, lesson04, lesson05, lesson06};
#[cfg(feature = "serve")]
pub use lessons::{lesson03, lesson08};
pub use model::TraceSpan;
#[cfg(feature = "jaeger")]
pub use request::traced_get;
pub use search::TraceList;
#[cfg(feature = "serve")]
pub use serve::{serve, Served};
pub use waterfall::Waterfall;

/// Shows `text` as the cell's output, like `println!`, but through evcxr's rich output: evcxr hands
/// it to Jupyter before the cell reports that it finished. Lines printed with `println!` travel on
/// a separate thread, and the last one of a cell can arrive after Jupyter has closed the cell
/// (seen with evcxr 0.22 on a busy machine), so cells whose output matters end with `show`.
/// Only the last `show` of a cell is displayed.
pub fn show(text: impl std::fmt::Display) {
    println!("EVCXR_BEGIN_CONTENT text/plain\n{text}\nEVCXR_END_CONTENT");
}
