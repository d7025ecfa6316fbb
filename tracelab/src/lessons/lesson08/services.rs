//! The shop's four services and its e-mail worker, each a small rouille app traced with
//! OpenTelemetry, and what they share: the server span around every request, the traced calls
//! between them, and simulated work. `shop.rs` starts them with the faults it planted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::propagation::TextMapPropagator as _;
use opentelemetry::trace::{Span as _, SpanKind, Status, TraceContextExt as _, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracer;

use super::shop::{Config, EmailJob, Payment, Plan, FRONTEND_TIMEOUT, SLOW_PAYMENT};

pub(super) fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos())
}

/// A request's query parameter as a number (0 when it is missing or not one).
fn param(request: &rouille::Request, name: &str) -> u32 {
    request
        .get_param(name)
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// Runs `handler` in a SERVER span named `GET {route}` that continues the caller's trace, with
/// `attributes`; the response's status goes on the span, an Error status for 5xx.
fn server(
    tracer: &SdkTracer,
    request: &rouille::Request,
    route: &str,
    attributes: Vec<KeyValue>,
    handler: impl FnOnce() -> rouille::Response,
) -> rouille::Response {
    let headers: HashMap<String, String> = request
        .headers()
        .map(|(name, value)| (name.to_lowercase(), value.to_owned()))
        .collect();
    let parent = TraceContextPropagator::new().extract(&headers);
    let mut attributes = attributes;
    attributes.push(KeyValue::new("http.route", route.to_owned()));
    let span = tracer
        .span_builder(format!("GET {route}"))
        .with_kind(SpanKind::Server)
        .with_attributes(attributes)
        .start_with_context(tracer, &parent);
    let cx = parent.with_span(span);
    let response = {
        let _active = cx.clone().attach();
        handler()
    };
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        "http.response.status_code",
        i64::from(response.status_code),
    ));
    if response.status_code >= 500 {
        span.set_status(Status::error(format!("HTTP {}", response.status_code)));
    }
    span.end();
    response
}

/// What a call to another service came to.
enum Answer {
    Status(u16),
    TimedOut,
    Failed(String),
}

/// GETs `url` in a CLIENT span that carries the trace context, waiting at most `timeout`. With
/// `error_status`, a 5xx answer sets the span's status to Error; without, it is only recorded as
/// an exception event (the swallowed error). A timeout or a failed connection is an Error always.
fn call(
    tracer: &SdkTracer,
    agent: &ureq::Agent,
    url: &str,
    timeout: Duration,
    error_status: bool,
) -> Answer {
    let span = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .with_attributes([
            KeyValue::new("url.full", url.to_owned()),
            KeyValue::new("lab.timeout_ms", timeout.as_millis() as i64),
        ])
        .start(tracer);
    let cx = Context::current().with_span(span);
    let mut headers: HashMap<String, String> = HashMap::new();
    TraceContextPropagator::new().inject_context(&cx, &mut headers);
    let mut request = agent.get(url).timeout(timeout);
    for (name, value) in &headers {
        request = request.set(name, value);
    }
    let answer = match request.call() {
        Ok(response) => Answer::Status(response.status()),
        Err(ureq::Error::Status(status, _)) => Answer::Status(status),
        Err(ureq::Error::Transport(transport)) => {
            let text = transport.to_string();
            if text.contains("timed out") || text.contains("Timeout") {
                Answer::TimedOut
            } else {
                Answer::Failed(text)
            }
        }
    };
    let span = cx.span();
    match &answer {
        Answer::Status(status) => {
            span.set_attribute(KeyValue::new(
                "http.response.status_code",
                i64::from(*status),
            ));
            if *status >= 500 {
                if error_status {
                    span.set_status(Status::error(format!("HTTP {status}")));
                } else {
                    span.add_event(
                        "exception",
                        vec![KeyValue::new("exception.message", format!("HTTP {status}"))],
                    );
                }
            }
        }
        Answer::TimedOut => {
            span.set_attribute(KeyValue::new("error.type", "timeout"));
            span.set_status(Status::error(format!(
                "no answer within {} ms",
                timeout.as_millis()
            )));
        }
        Answer::Failed(why) => {
            span.set_attribute(KeyValue::new("error.type", "connection"));
            span.set_status(Status::error(why.clone()));
        }
    }
    span.end();
    answer
}

/// Work inside the service: an INTERNAL span that lasts `time`.
fn work(tracer: &SdkTracer, name: &'static str, time: Duration) {
    tracer.in_span(name, |_cx| thread::sleep(time));
}

type App = Box<dyn Fn(&rouille::Request) -> rouille::Response + Send + Sync>;

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build()
}

pub(super) fn frontend_app(
    tracer: SdkTracer,
    config: Config,
    inventory: String,
    orders: String,
) -> App {
    let cache: Mutex<HashSet<String>> = Mutex::new(HashSet::new());
    let agent = agent();
    Box::new(move |request| {
        let (cart, checkout) = (param(request, "cart"), param(request, "checkout"));
        let place = param(request, "place");
        let attributes = vec![
            KeyValue::new("lab.cart", i64::from(cart)),
            KeyValue::new("lab.checkout", i64::from(checkout)),
        ];
        server(&tracer, request, "/checkout", attributes, || {
            tracer.in_span("read_price_cache", |cx| {
                let key = if config.cache_by_cart {
                    format!("prices:cart-{cart}")
                } else {
                    format!("prices:cart-{cart}:checkout-{checkout}")
                };
                let hit = cache
                    .lock()
                    .map(|cache| cache.contains(&key))
                    .unwrap_or(false);
                let span = cx.span();
                span.set_attribute(KeyValue::new("cache.key", key.clone()));
                span.set_attribute(KeyValue::new("lab.cart", i64::from(cart)));
                span.set_attribute(KeyValue::new("lab.cache.hit", hit));
                if !hit {
                    call(
                        &tracer,
                        &agent,
                        &format!("{inventory}/prices?cart={cart}"),
                        Duration::from_secs(5),
                        true,
                    );
                    if let Ok(mut cache) = cache.lock() {
                        cache.insert(key);
                    }
                }
            });
            let url = format!("{orders}/order?cart={cart}&checkout={checkout}&place={place}");
            match call(&tracer, &agent, &url, FRONTEND_TIMEOUT, true) {
                Answer::Status(200) => rouille::Response::text("checkout done"),
                Answer::Status(_) | Answer::Failed(_) => {
                    rouille::Response::text("the order failed").with_status_code(502)
                }
                Answer::TimedOut => {
                    rouille::Response::text("the order took too long").with_status_code(504)
                }
            }
        })
    })
}

/// The items of cart `cart`: four of them.
fn items(cart: u32) -> Vec<String> {
    let all = ["lamp", "desk", "chair", "shelf", "rug", "clock"];
    (0..4)
        .map(|n| all[(cart as usize + n) % all.len()].to_owned())
        .collect()
}

pub(super) fn orders_app(
    tracer: SdkTracer,
    config: Config,
    inventory: String,
    payments: String,
    jobs: Mutex<mpsc::Sender<EmailJob>>,
    busy: Arc<AtomicUsize>,
) -> App {
    let table = Mutex::new(());
    let agent = agent();
    Box::new(move |request| {
        busy.fetch_add(1, Ordering::SeqCst);
        let (cart, checkout) = (param(request, "cart"), param(request, "checkout"));
        let place = param(request, "place");
        let attributes = vec![
            KeyValue::new("lab.cart", i64::from(cart)),
            KeyValue::new("lab.checkout", i64::from(checkout)),
        ];
        let response = server(&tracer, request, "/order", attributes, || {
            let wanted = items(cart);
            if config.batch_lookups {
                call(
                    &tracer,
                    &agent,
                    &format!("{inventory}/stock?items={}", wanted.join(",")),
                    Duration::from_secs(5),
                    true,
                );
            } else {
                for item in &wanted {
                    call(
                        &tracer,
                        &agent,
                        &format!("{inventory}/stock?item={item}"),
                        Duration::from_secs(5),
                        true,
                    );
                }
            }
            let charge = || {
                let mut paid = false;
                for attempt in 1..=config.attempts {
                    if attempt > 1 {
                        thread::sleep(config.backoff);
                    }
                    let url = format!(
                        "{payments}/charge?checkout={checkout}&place={place}&attempt={attempt}"
                    );
                    if let Answer::Status(200) = call(
                        &tracer,
                        &agent,
                        &url,
                        config.payments_timeout,
                        config.error_status,
                    ) {
                        paid = true;
                        break;
                    }
                }
                paid
            };
            let write = || {
                tracer.in_span("orders_lock", |_cx| {
                    let guard = tracer.in_span("wait_for_lock", |_cx| table.lock());
                    let paid = if config.lock_across_call {
                        charge()
                    } else {
                        true
                    };
                    if paid {
                        work(&tracer, "INSERT orders", Duration::from_millis(3));
                    }
                    drop(guard);
                    paid
                })
            };
            let paid = if config.lock_across_call {
                write()
            } else {
                charge() && write()
            };
            if !paid && config.error_status {
                return rouille::Response::text("payment failed").with_status_code(502);
            }
            tracer.in_span("enqueue confirmation", |cx| {
                cx.span()
                    .set_attribute(KeyValue::new("lab.checkout", i64::from(checkout)));
                let job = EmailJob {
                    checkout,
                    context: config.carry_context.then(|| cx.clone()),
                };
                busy.fetch_add(1, Ordering::SeqCst);
                let sent = jobs
                    .lock()
                    .map(|jobs| jobs.send(job).is_ok())
                    .unwrap_or(false);
                if !sent {
                    busy.fetch_sub(1, Ordering::SeqCst);
                }
            });
            rouille::Response::text("order placed")
        });
        busy.fetch_sub(1, Ordering::SeqCst);
        response
    })
}

pub(super) fn email_worker(
    tracer: &SdkTracer,
    queue: mpsc::Receiver<EmailJob>,
    busy: &AtomicUsize,
) {
    for job in queue {
        let parent = job.context.unwrap_or_default();
        let mut span = tracer
            .span_builder("send_confirmation")
            .with_kind(SpanKind::Consumer)
            .with_attributes([KeyValue::new("lab.checkout", i64::from(job.checkout))])
            .start_with_context(tracer, &parent);
        thread::sleep(Duration::from_millis(5));
        span.end();
        busy.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) fn inventory_app(tracer: SdkTracer) -> App {
    Box::new(move |request| {
        let url = request.url();
        let route = if url == "/prices" {
            "/prices"
        } else {
            "/stock"
        };
        let many = request.get_param("items").is_some();
        server(&tracer, request, route, vec![], || {
            let (name, time) = match (route, many) {
                ("/prices", _) => ("SELECT prices", 40),
                (_, true) => ("SELECT stock", 12),
                _ => ("SELECT stock", 8),
            };
            work(&tracer, name, Duration::from_millis(time));
            rouille::Response::text("ok")
        })
    })
}

pub(super) fn payments_app(tracer: SdkTracer, plan: Arc<Plan>) -> App {
    Box::new(move |request| {
        let (place, attempt) = (param(request, "place"), param(request, "attempt"));
        let attributes = vec![KeyValue::new(
            "lab.checkout",
            i64::from(param(request, "checkout")),
        )];
        server(&tracer, request, "/charge", attributes, || {
            match plan.payment(place, attempt) {
                Payment::Fails => {
                    work(&tracer, "charge card", Duration::from_millis(5));
                    rouille::Response::text("the card processor is unavailable")
                        .with_status_code(503)
                }
                Payment::Slow => {
                    work(&tracer, "charge card", SLOW_PAYMENT);
                    rouille::Response::text("paid")
                }
                Payment::Works => {
                    work(&tracer, "charge card", Duration::from_millis(10));
                    rouille::Response::text("paid")
                }
            }
        })
    })
}
