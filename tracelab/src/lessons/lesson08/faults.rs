//! The faults the shop of notebook 08 can have, how each shows in a trace, and the repairs.
//!
//! Each fault has a *signature*: what a trace of the shop shows when the fault is there, and never
//! shows when it is not. The check of the student's findings asks whether the trace given as
//! evidence shows the signature; the check of the repairs drives traffic again and asks whether
//! any trace still does.

use std::fmt;

use crate::model::TraceSpan;
use crate::tr;

/// What can be wrong with the shop. Seven kinds; a shop has some of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// The e-mail worker's spans lose the request's context across the queue.
    ContextLostInQueue,
    /// The orders service asks the inventory once per item instead of once per order.
    NPlusOneCalls,
    /// A failed payment is recorded on the span without the Error status, and the order goes on
    /// as if it had worked.
    SwallowedError,
    /// The orders service retries a failing payment at once, again and again.
    RetryStorm,
    /// The orders service holds its lock while it waits for the payments service.
    LockHeldAcrossCall,
    /// The frontend's price cache is keyed by something that changes every request.
    CacheNeverHits,
    /// The orders service waits for payments longer than the frontend waits for it.
    TimeoutLongerThanCaller,
}

impl Fault {
    /// All the kinds, in the order the lesson lists them.
    pub const ALL: [Fault; 7] = [
        Fault::ContextLostInQueue,
        Fault::NPlusOneCalls,
        Fault::SwallowedError,
        Fault::RetryStorm,
        Fault::LockHeldAcrossCall,
        Fault::CacheNeverHits,
        Fault::TimeoutLongerThanCaller,
    ];

    /// What the fault is, in a few words.
    pub fn describe(self) -> &'static str {
        match self {
            Fault::ContextLostInQueue => tr!(
                en: "context lost across the e-mail queue",
                pt: "contexto perdido na fila de e-mails",
            ),
            Fault::NPlusOneCalls => tr!(
                en: "one inventory call per item (N+1)",
                pt: "uma chamada ao inventory por item (N+1)",
            ),
            Fault::SwallowedError => tr!(
                en: "a payment error swallowed (status left unset)",
                pt: "um erro de pagamento engolido (status não definido)",
            ),
            Fault::RetryStorm => tr!(
                en: "a retry storm against payments",
                pt: "uma tempestade de novas tentativas contra o payments",
            ),
            Fault::LockHeldAcrossCall => tr!(
                en: "the orders lock held across the payments call",
                pt: "a trava de orders segurada durante a chamada ao payments",
            ),
            Fault::CacheNeverHits => tr!(
                en: "a price cache that never hits",
                pt: "um cache de preços que nunca acerta",
            ),
            Fault::TimeoutLongerThanCaller => tr!(
                en: "a timeout longer than the caller's",
                pt: "um timeout maior que o de quem chama",
            ),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} ({})", self.describe())
    }
}

/// A fault the student found, and the trace that shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub fault: Fault,
    pub trace_id: String,
}

impl Finding {
    pub fn new(fault: Fault, trace_id: impl Into<String>) -> Finding {
        Finding {
            fault,
            trace_id: trace_id.into().trim().to_lowercase(),
        }
    }
}

/// A change to the shop's configuration, each the cure of one fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    /// The e-mail job carries the request's context, and the worker continues it.
    CarryContextThroughQueue,
    /// One inventory call per order, for all its items.
    BatchStockLookups,
    /// A failed call's span gets the Error status, and the failure is answered as one.
    SetErrorStatus,
    /// At most `attempts` calls to payments per order, `backoff_ms` apart.
    RetryWithBackoff { attempts: u32, backoff_ms: u64 },
    /// The orders lock is taken for the order's write only, after the payment.
    ReleaseLockBeforeCall,
    /// The price cache is keyed by the cart alone.
    CacheByCart,
    /// The orders service waits at most `ms` for each payments call.
    PaymentsTimeout { ms: u64 },
}

impl Repair {
    /// The fault this repair cures.
    pub fn cures(self) -> Fault {
        match self {
            Repair::CarryContextThroughQueue => Fault::ContextLostInQueue,
            Repair::BatchStockLookups => Fault::NPlusOneCalls,
            Repair::SetErrorStatus => Fault::SwallowedError,
            Repair::RetryWithBackoff { .. } => Fault::RetryStorm,
            Repair::ReleaseLockBeforeCall => Fault::LockHeldAcrossCall,
            Repair::CacheByCart => Fault::CacheNeverHits,
            Repair::PaymentsTimeout { .. } => Fault::TimeoutLongerThanCaller,
        }
    }
}

/// The value of the attribute `key` of `span`, as text.
pub(crate) fn attribute<'a>(span: &'a TraceSpan, key: &str) -> Option<&'a str> {
    span.attributes
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, value)| value.as_str())
}

/// The inventory's or payments' calls the orders service made in `trace`.
fn calls_to<'a>(
    trace: &'a [&'a TraceSpan],
    path: &'a str,
) -> impl Iterator<Item = &'a &'a TraceSpan> {
    trace.iter().filter(move |span| {
        span.service == "orders"
            && span.kind == "client"
            && attribute(span, "url.full").is_some_and(|url| url.contains(path))
    })
}

/// Whether the trace `trace_id` shows `fault`, among all the shop's spans `all` (the cache needs
/// to see the other requests of the same cart).
pub fn shows(fault: Fault, trace_id: &str, all: &[TraceSpan]) -> bool {
    let trace: Vec<&TraceSpan> = all
        .iter()
        .filter(|span| span.trace_id == trace_id)
        .collect();
    match fault {
        Fault::ContextLostInQueue => {
            // The worker's span alone in a trace of its own, or an order whose queued job has no
            // span in its trace.
            trace
                .iter()
                .any(|span| span.name == "send_confirmation" && span.parent_id.is_none())
                || trace.iter().any(|span| {
                    span.name == "enqueue confirmation"
                        && !trace
                            .iter()
                            .any(|child| child.parent_id.as_ref() == Some(&span.span_id))
                        && all.iter().any(|other| {
                            other.name == "send_confirmation"
                                && other.parent_id.is_none()
                                && other.start_ns >= span.start_ns
                        })
                })
        }
        Fault::NPlusOneCalls => calls_to(&trace, "/stock").count() > 1,
        Fault::SwallowedError => trace.iter().any(|span| {
            span.error.is_none()
                && attribute(span, "http.response.status_code")
                    .and_then(|code| code.parse::<u16>().ok())
                    .is_some_and(|code| code >= 500)
        }),
        Fault::RetryStorm => calls_to(&trace, "/charge").count() > 3,
        Fault::LockHeldAcrossCall => trace.iter().any(|span| {
            span.kind == "client"
                && trace.iter().any(|lock| {
                    lock.name == "orders_lock" && span.parent_id.as_ref() == Some(&lock.span_id)
                })
        }),
        Fault::CacheNeverHits => trace.iter().any(|read| {
            read.name == "read_price_cache"
                && attribute(read, "lab.cache.hit") == Some("false")
                && attribute(read, "lab.cart").is_some_and(|cart| {
                    all.iter().any(|other| {
                        other.name == "read_price_cache"
                            && other.span_id != read.span_id
                            && attribute(other, "lab.cart") == Some(cart)
                            && attribute(other, "cache.key") != attribute(read, "cache.key")
                    })
                })
        }),
        // The orders service still at work after its caller gave up, because one of its calls
        // to payments waited longer than the caller's whole wait, as its timeout let it.
        // Outliving the caller alone is not enough: with the lock held across the call, a
        // checkout can queue for the lock until the frontend gives up. Nor is a long call alone:
        // on a busy machine a call can overrun a short timeout by a scheduler's pause, so its
        // timeout (`lab.timeout_ms`) must be longer than the caller's wait too.
        Fault::TimeoutLongerThanCaller => trace.iter().any(|server| {
            server.service == "orders"
                && server.kind == "server"
                && trace.iter().any(|caller| {
                    caller.kind == "client"
                        && caller.service == "frontend"
                        && server.parent_id.as_ref() == Some(&caller.span_id)
                        && server.end_ns > caller.end_ns + 20_000_000
                        && calls_to(&trace, "/charge").any(|charge| {
                            let caller_waited = caller.duration_ns();
                            let allowed_ns = attribute(charge, "lab.timeout_ms")
                                .and_then(|ms| ms.parse::<u128>().ok())
                                .map_or(0, |ms| ms * 1_000_000);
                            charge.duration_ns() > caller_waited && allowed_ns > caller_waited
                        })
                })
        }),
    }
}

/// The traces among `all` that show `fault`.
pub fn traces_showing(fault: Fault, all: &[TraceSpan]) -> Vec<String> {
    let mut ids: Vec<&str> = all.iter().map(|span| span.trace_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .filter(|id| shows(fault, id, all))
        .map(str::to_owned)
        .collect()
}
