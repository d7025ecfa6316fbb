//! The shop of notebook 08: four services on loopback (a `frontend`, `orders`, `inventory` and
//! `payments`) and an e-mail worker, traced with OpenTelemetry, with faults planted in their
//! configuration when the shop starts.
//!
//! Which faults, and which checkouts meet a failing or a slow payments service, are drawn from a
//! seed: `LAB_FAULT_SEED` when it is set (the tests fix it), a random one otherwise. The shop
//! never says which faults it has; its traces do.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::Context;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer, SdkTracerProvider, SpanExporter};
use opentelemetry_sdk::Resource;

use super::faults::{Fault, Repair};
use super::services::{
    email_worker, frontend_app, inventory_app, orders_app, payments_app, unix_ns,
};
use crate::model::TraceSpan;
use crate::serve::{serve, Served};
use crate::tr;

/// The variable that fixes the shop's seed.
pub const SEED_VARIABLE: &str = "LAB_FAULT_SEED";
/// How many faults a shop has.
pub const PLANTED: usize = 3;
/// How many checkouts a drive of the lesson sends; the payments schedule covers them.
pub const CHECKOUTS: u32 = 12;
/// How long the frontend waits for the orders service.
pub const FRONTEND_TIMEOUT: Duration = Duration::from_millis(800);
/// How long a slow payment takes.
pub(super) const SLOW_PAYMENT: Duration = Duration::from_millis(1200);

/// What is drawn when a shop starts: its faults, and the payments' schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) seed: u64,
    pub(crate) faults: Vec<Fault>,
    /// The places in a drive (1 to [`CHECKOUTS`]) whose payments fail, every attempt.
    failing: Vec<u32>,
    /// The places whose first payment attempt takes [`SLOW_PAYMENT`].
    slow: Vec<u32>,
}

impl Plan {
    /// The plan of `LAB_FAULT_SEED`, or of a seed drawn now.
    pub(crate) fn draw() -> Plan {
        let seed = std::env::var(SEED_VARIABLE)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or_else(|| fastrand::u64(..));
        Plan::with_seed(seed)
    }

    pub(crate) fn with_seed(seed: u64) -> Plan {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut faults = Fault::ALL.to_vec();
        rng.shuffle(&mut faults);
        faults.truncate(PLANTED);
        faults.sort();
        // Two slow payments six places apart, so that no two run at the same time; two failing
        // ones elsewhere.
        let first_slow = rng.u32(1..=CHECKOUTS / 2);
        let slow = vec![first_slow, first_slow + CHECKOUTS / 2];
        let mut others: Vec<u32> = (1..=CHECKOUTS)
            .filter(|place| !slow.contains(place))
            .collect();
        rng.shuffle(&mut others);
        let mut failing = others[..2].to_vec();
        failing.sort_unstable();
        Plan {
            seed,
            faults,
            failing,
            slow,
        }
    }

    pub(super) fn payment(&self, place: u32, attempt: u32) -> Payment {
        if self.failing.contains(&place) {
            Payment::Fails
        } else if self.slow.contains(&place) && attempt == 1 {
            Payment::Slow
        } else {
            Payment::Works
        }
    }
}

pub(super) enum Payment {
    Works,
    Slow,
    Fails,
}

/// How the shop is configured: good values, and bad ones where a fault is planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config {
    pub(super) carry_context: bool,
    pub(super) batch_lookups: bool,
    pub(super) error_status: bool,
    pub(super) attempts: u32,
    pub(super) backoff: Duration,
    pub(super) lock_across_call: bool,
    pub(super) cache_by_cart: bool,
    pub(super) payments_timeout: Duration,
}

impl Config {
    pub(crate) fn with_faults(faults: &[Fault]) -> Config {
        let mut config = Config {
            carry_context: true,
            batch_lookups: true,
            error_status: true,
            attempts: 3,
            backoff: Duration::from_millis(50),
            lock_across_call: false,
            cache_by_cart: true,
            payments_timeout: Duration::from_millis(500),
        };
        for fault in faults {
            match fault {
                Fault::ContextLostInQueue => config.carry_context = false,
                Fault::NPlusOneCalls => config.batch_lookups = false,
                Fault::SwallowedError => config.error_status = false,
                Fault::RetryStorm => {
                    config.attempts = 10;
                    config.backoff = Duration::ZERO;
                }
                Fault::LockHeldAcrossCall => config.lock_across_call = true,
                Fault::CacheNeverHits => config.cache_by_cart = false,
                Fault::TimeoutLongerThanCaller => {
                    config.payments_timeout = Duration::from_millis(2000)
                }
            }
        }
        config
    }

    pub(crate) fn repaired(mut self, repairs: &[Repair]) -> Config {
        for repair in repairs {
            match *repair {
                Repair::CarryContextThroughQueue => self.carry_context = true,
                Repair::BatchStockLookups => self.batch_lookups = true,
                Repair::SetErrorStatus => self.error_status = true,
                Repair::RetryWithBackoff {
                    attempts,
                    backoff_ms,
                } => {
                    self.attempts = attempts.clamp(1, 20);
                    self.backoff = Duration::from_millis(backoff_ms.min(2_000));
                }
                Repair::ReleaseLockBeforeCall => self.lock_across_call = false,
                Repair::CacheByCart => self.cache_by_cart = true,
                Repair::PaymentsTimeout { ms } => {
                    self.payments_timeout = Duration::from_millis(ms.clamp(1, 10_000));
                }
            }
        }
        self
    }
}

/// One service: its provider, and its spans kept in memory.
struct Service {
    name: &'static str,
    provider: SdkTracerProvider,
    memory: InMemorySpanExporter,
}

impl Service {
    fn new<E: SpanExporter + 'static>(name: &'static str, also_to: Option<E>) -> Service {
        let memory = InMemorySpanExporter::default();
        let mut builder = SdkTracerProvider::builder()
            .with_resource(Resource::builder().with_service_name(name).build())
            .with_simple_exporter(memory.clone());
        if let Some(exporter) = also_to {
            builder = builder.with_batch_exporter(exporter);
        }
        Service {
            name,
            provider: builder.build(),
            memory,
        }
    }

    fn tracer(&self) -> SdkTracer {
        self.provider.tracer(self.name)
    }
}

/// The shop: its services, running, and what they have traced.
pub struct Shop {
    pub(crate) plan: Plan,
    pub(crate) config: Config,
    services: Vec<Service>,
    servers: Vec<Served>,
    frontend_url: String,
    /// Orders being handled, and e-mails queued but not sent: a drive waits for both to be zero.
    busy: Arc<AtomicUsize>,
    worker: Option<thread::JoinHandle<()>>,
    checkouts: AtomicU32,
}

/// An e-mail for the worker, with the context of the order that queued it when the shop carries
/// it.
pub(super) struct EmailJob {
    pub(super) checkout: u32,
    pub(super) context: Option<Context>,
}

impl Shop {
    /// Starts the shop with faults drawn now (or from `LAB_FAULT_SEED`). Each service also exports
    /// its spans with an exporter from `also_to` (for example OTLP to Jaeger), when it gives one.
    pub fn start<E: SpanExporter + 'static>(also_to: impl Fn() -> Option<E>) -> Shop {
        let plan = Plan::draw();
        let config = Config::with_faults(&plan.faults);
        Shop::run(plan, config, also_to)
    }

    /// The same shop (the same faults, the same payments), with `repairs` made to its
    /// configuration.
    pub fn repaired<E: SpanExporter + 'static>(
        &self,
        repairs: &[Repair],
        also_to: impl Fn() -> Option<E>,
    ) -> Shop {
        Shop::run(self.plan.clone(), self.config.repaired(repairs), also_to)
    }

    pub(crate) fn run<E: SpanExporter + 'static>(
        plan: Plan,
        config: Config,
        also_to: impl Fn() -> Option<E>,
    ) -> Shop {
        let services: Vec<Service> = ["frontend", "orders", "inventory", "payments"]
            .into_iter()
            .map(|name| Service::new(name, also_to()))
            .collect();
        let plan_shared = Arc::new(plan.clone());
        let busy = Arc::new(AtomicUsize::new(0));
        let start =
            |name: &str, app: Box<dyn Fn(&rouille::Request) -> rouille::Response + Send + Sync>| {
                let app = Arc::new(app);
                serve(name, "TRACELAB_SHOP_PORT", 0, move |request| app(request))
                    .unwrap_or_else(|error| panic!("{error}"))
            };
        let payments = start("payments", payments_app(services[3].tracer(), plan_shared));
        let inventory = start("inventory", inventory_app(services[2].tracer()));
        let (jobs, queue) = mpsc::channel::<EmailJob>();
        let worker = {
            let tracer = services[1].tracer();
            let busy = busy.clone();
            thread::spawn(move || email_worker(&tracer, queue, &busy))
        };
        let orders = start(
            "orders",
            orders_app(
                services[1].tracer(),
                config,
                inventory.url().to_owned(),
                payments.url().to_owned(),
                Mutex::new(jobs),
                busy.clone(),
            ),
        );
        let frontend = start(
            "frontend",
            frontend_app(
                services[0].tracer(),
                config,
                inventory.url().to_owned(),
                orders.url().to_owned(),
            ),
        );
        Shop {
            plan,
            config,
            frontend_url: frontend.url().to_owned(),
            services,
            servers: vec![frontend, orders, inventory, payments],
            busy,
            worker: Some(worker),
            checkouts: AtomicU32::new(0),
        }
    }

    /// The places in a drive whose payment fails for good: their checkouts fail however the shop
    /// is repaired.
    pub(crate) fn plan_failing(&self) -> Vec<u32> {
        self.plan.failing.clone()
    }

    /// How many faults the shop has (not which).
    pub fn faults_planted(&self) -> usize {
        self.plan.faults.len()
    }

    /// The seed the shop's faults and payments were drawn from: with `LAB_FAULT_SEED` set to it,
    /// the next shop has the same ones.
    pub fn seed(&self) -> u64 {
        self.plan.seed
    }

    /// Sends `checkouts` checkouts to the frontend, three at a time, for carts 1 to 3 in turn,
    /// waits until every service has finished with them (e-mails included), and returns them
    /// with their spans.
    pub fn drive(&self, checkouts: u32) -> Traffic {
        let started = unix_ns();
        let first = self.checkouts.fetch_add(checkouts, Ordering::SeqCst) + 1;
        let next = AtomicU32::new(0);
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .build();
        let answers: Mutex<Vec<(u32, u32, u16)>> = Mutex::new(Vec::new());
        thread::scope(|scope| {
            for _ in 0..3 {
                scope.spawn(|| loop {
                    let place = next.fetch_add(1, Ordering::SeqCst) + 1;
                    if place > checkouts {
                        break;
                    }
                    let checkout = first + place - 1;
                    let cart = (checkout - 1) % 3 + 1;
                    let url = format!(
                        "{}/checkout?cart={cart}&checkout={checkout}&place={place}",
                        self.frontend_url
                    );
                    let status = match agent.get(&url).call() {
                        Ok(response) => response.status(),
                        Err(ureq::Error::Status(status, _)) => status,
                        Err(_) => 0,
                    };
                    if let Ok(mut answers) = answers.lock() {
                        answers.push((checkout, cart, status));
                    }
                });
            }
        });
        // The orders service may still be at work for a checkout the frontend gave up on, and
        // the worker may still send e-mails.
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.busy.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        thread::sleep(Duration::from_millis(20));
        let spans: Vec<TraceSpan> = self
            .spans()
            .into_iter()
            .filter(|span| span.start_ns >= started)
            .collect();
        let mut answers = answers.into_inner().unwrap_or_default();
        answers.sort_unstable();
        let checkouts = answers
            .into_iter()
            .map(|(checkout, cart, status)| {
                let root = spans.iter().find(|span| {
                    span.name == "GET /checkout"
                        && super::faults::attribute(span, "lab.checkout")
                            == Some(checkout.to_string().as_str())
                });
                Checkout {
                    checkout,
                    cart,
                    status,
                    took_ns: root.map_or(0, TraceSpan::duration_ns),
                    trace_id: root.map(|span| span.trace_id.clone()).unwrap_or_default(),
                }
            })
            .collect();
        Traffic { checkouts, spans }
    }

    /// Every span the shop's services have made so far.
    pub fn spans(&self) -> Vec<TraceSpan> {
        let mut spans: Vec<TraceSpan> = self
            .services
            .iter()
            .flat_map(|service| {
                TraceSpan::all_from_sdk(
                    &service.memory.get_finished_spans().unwrap_or_default(),
                    service.name,
                )
            })
            .collect();
        spans.sort_by_key(|span| span.start_ns);
        spans
    }

    /// The spans of the trace `trace_id`.
    pub fn trace(&self, trace_id: &str) -> Vec<TraceSpan> {
        self.spans()
            .into_iter()
            .filter(|span| span.trace_id == trace_id.trim())
            .collect()
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        // Stopping the orders server drops its end of the queue, which ends the worker.
        for server in self.servers.drain(..) {
            server.stop();
        }
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        for service in &self.services {
            let _ = service.provider.shutdown();
        }
    }
}

impl fmt::Display for Shop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}",
            tr!(
                en: format!(
                    "the shop is open: frontend at {}/checkout, and behind it orders, inventory \
                     and payments, and an e-mail worker.\n{} of the 7 kinds of fault are in it \
                     (seed {}).",
                    self.frontend_url,
                    self.plan.faults.len(),
                    self.plan.seed
                ),
                pt: format!(
                    "a loja está aberta: o frontend em {}/checkout, e atrás dele orders, \
                     inventory e payments, e um worker de e-mail.\n{} dos 7 tipos de falha estão \
                     nela (semente {}).",
                    self.frontend_url,
                    self.plan.faults.len(),
                    self.plan.seed
                ),
            )
        )
    }
}

/// One checkout of a drive, as the customer met it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    pub checkout: u32,
    pub cart: u32,
    /// The HTTP status the customer got (0: no answer at all).
    pub status: u16,
    pub took_ns: u128,
    /// The trace the checkout made.
    pub trace_id: String,
}

/// The checkouts of one drive, and every span they made.
#[derive(Debug, Clone, PartialEq)]
pub struct Traffic {
    pub checkouts: Vec<Checkout>,
    pub spans: Vec<TraceSpan>,
}

impl Traffic {
    /// The trace id of the checkout that took longest.
    pub fn slowest(&self) -> String {
        self.checkouts
            .iter()
            .max_by_key(|checkout| checkout.took_ns)
            .map(|checkout| checkout.trace_id.clone())
            .unwrap_or_default()
    }

    /// The trace ids of the checkouts the customer saw fail.
    pub fn failed(&self) -> Vec<String> {
        self.checkouts
            .iter()
            .filter(|checkout| checkout.status != 200)
            .map(|checkout| checkout.trace_id.clone())
            .collect()
    }

    /// The spans of the trace `trace_id`.
    pub fn trace(&self, trace_id: &str) -> Vec<TraceSpan> {
        self.spans
            .iter()
            .filter(|span| span.trace_id == trace_id.trim())
            .cloned()
            .collect()
    }
}

impl fmt::Display for Traffic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>8}  {:>4}  {:>6}  {:>11}  trace id",
            tr!(en: "checkout", pt: "checkout"),
            tr!(en: "cart", pt: "cart"),
            "status",
            tr!(en: "took", pt: "levou"),
        )?;
        for checkout in &self.checkouts {
            writeln!(
                f,
                "{:>8}  {:>4}  {:>6}  {:>11}  {}",
                checkout.checkout,
                checkout.cart,
                checkout.status,
                crate::model::human_duration(checkout.took_ns),
                checkout.trace_id
            )?;
        }
        let failed = self
            .checkouts
            .iter()
            .filter(|checkout| checkout.status != 200)
            .count();
        write!(
            f,
            "{}",
            tr!(
                en: format!(
                    "{} checkouts, {failed} failed for the customer; {} spans.",
                    self.checkouts.len(),
                    self.spans.len()
                ),
                pt: format!(
                    "{} checkouts, {failed} falharam para o cliente; {} spans.",
                    self.checkouts.len(),
                    self.spans.len()
                ),
            )
        )
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn a_seed_draws_the_same_plan_and_every_plan_keeps_its_promises() {
        assert_eq!(Plan::with_seed(7), Plan::with_seed(7));
        let mut seen = HashSet::new();
        for seed in 0..200 {
            let plan = Plan::with_seed(seed);
            assert_eq!(plan.faults.len(), PLANTED);
            seen.extend(plan.faults.iter().copied());
            assert_eq!(plan.slow[1] - plan.slow[0], CHECKOUTS / 2);
            assert!(plan.failing.iter().all(|place| !plan.slow.contains(place)));
        }
        assert_eq!(
            seen.len(),
            Fault::ALL.len(),
            "every fault is drawn by some seed"
        );
    }

    #[test]
    fn repairs_undo_what_faults_did() {
        let planted = Config::with_faults(&Fault::ALL);
        let good = Config::with_faults(&[]);
        let repaired = planted.repaired(&[
            Repair::CarryContextThroughQueue,
            Repair::BatchStockLookups,
            Repair::SetErrorStatus,
            Repair::RetryWithBackoff {
                attempts: 3,
                backoff_ms: 50,
            },
            Repair::ReleaseLockBeforeCall,
            Repair::CacheByCart,
            Repair::PaymentsTimeout { ms: 500 },
        ]);
        assert_eq!(repaired, good);
        assert_ne!(planted, good);
    }
}
