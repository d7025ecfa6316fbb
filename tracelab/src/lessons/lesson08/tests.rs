//! The shop's faults against the real services: each planted fault shows in the traces of a
//! drive, no fault shows in a shop that has none (so that a finding can only be right when the
//! fault is there), and the repairs take every fault away.

use super::faults::{shows, traces_showing, Fault, Repair};
use super::shop::{Config, Plan, Shop, CHECKOUTS};
use crate::model::{Kind, TraceSpan};
use crate::recorder::Recorder;

fn shop_with(faults: &[Fault]) -> Shop {
    let mut plan = Plan::with_seed(11);
    plan.faults = faults.to_vec();
    Shop::run(plan, Config::with_faults(faults), || None::<Recorder>)
}

fn shown(shop: &Shop) -> Vec<Fault> {
    let traffic = shop.drive(CHECKOUTS);
    Fault::ALL
        .into_iter()
        .filter(|fault| !traces_showing(*fault, &traffic.spans).is_empty())
        .collect()
}

#[test]
fn a_shop_without_faults_shows_none() {
    assert_eq!(shown(&shop_with(&[])), vec![]);
}

#[test]
fn each_fault_alone_shows_itself_and_nothing_else() {
    for fault in Fault::ALL {
        assert_eq!(
            shown(&shop_with(&[fault])),
            vec![fault],
            "{fault:?} planted alone"
        );
    }
}

#[test]
fn every_fault_at_once_shows_all_of_them_and_the_repairs_take_them_away() {
    let shop = shop_with(&Fault::ALL);
    assert_eq!(shown(&shop), Fault::ALL.to_vec());
    let repaired = shop.repaired(
        &[
            Repair::CarryContextThroughQueue,
            Repair::BatchStockLookups,
            Repair::SetErrorStatus,
            Repair::RetryWithBackoff {
                attempts: 3,
                backoff_ms: 50,
            },
            Repair::ReleaseLockBeforeCall,
            Repair::CacheByCart,
            Repair::PaymentsTimeout { ms: 400 },
        ],
        || None::<Recorder>,
    );
    let traffic = repaired.drive(CHECKOUTS);
    assert!(
        Fault::ALL
            .into_iter()
            .all(|fault| traces_showing(fault, &traffic.spans).is_empty()),
        "a fault still shows after every repair"
    );
    let failing = shop.plan_failing();
    for (index, checkout) in traffic.checkouts.iter().enumerate() {
        let expected = if failing.contains(&(index as u32 + 1)) {
            502
        } else {
            200
        };
        assert_eq!(checkout.status, expected, "{checkout:?}");
    }
}

/// A span of the trace `t`, from `start_ms` to `end_ms`.
fn span(
    (id, parent): (&str, Option<&str>),
    (service, kind, name): (&str, Kind, &str),
    (start_ms, end_ms): (u128, u128),
    url: Option<&str>,
) -> TraceSpan {
    TraceSpan {
        trace_id: "t".into(),
        span_id: id.into(),
        parent_id: parent.map(str::to_owned),
        name: name.into(),
        service: service.into(),
        scope: service.into(),
        kind,
        start_ns: start_ms * 1_000_000,
        end_ns: end_ms * 1_000_000,
        error: None,
        attributes: url
            .map(|url| vec![("url.full".to_owned(), url.to_owned())])
            .unwrap_or_default(),
        events: vec![],
    }
}

/// A checkout whose frontend gives up after 800 ms while orders goes on until 1100 ms, and whose
/// call to payments lasts `charge_ms` under a timeout of `timeout_ms`, inside the lock or after it.
fn outlived_checkout(charge_ms: u128, timeout_ms: u128, inside_lock: bool) -> Vec<TraceSpan> {
    let charge_parent = if inside_lock { "lock" } else { "server" };
    let mut charge = span(
        ("charge", Some(charge_parent)),
        ("orders", Kind::Client, "GET"),
        (1080 - charge_ms, 1080),
        Some("http://127.0.0.1:2/charge?checkout=1"),
    );
    charge
        .attributes
        .push(("lab.timeout_ms".to_owned(), timeout_ms.to_string()));
    vec![
        span(
            ("caller", None),
            ("frontend", Kind::Client, "GET"),
            (0, 800),
            Some("http://127.0.0.1:1/order"),
        ),
        span(
            ("server", Some("caller")),
            ("orders", Kind::Server, "GET /order"),
            (5, 1100),
            None,
        ),
        span(
            ("lock", Some("server")),
            ("orders", Kind::Internal, "orders_lock"),
            (10, 1090),
            None,
        ),
        charge,
    ]
}

#[test]
fn a_checkout_that_queued_for_the_lock_until_its_caller_gave_up_is_no_long_timeout() {
    let spans = outlived_checkout(20, 500, true);
    assert!(shows(Fault::LockHeldAcrossCall, "t", &spans));
    assert!(!shows(Fault::TimeoutLongerThanCaller, "t", &spans));
}

#[test]
fn a_call_to_payments_that_outwaits_the_caller_is_a_long_timeout() {
    let spans = outlived_checkout(1000, 2000, false);
    assert!(shows(Fault::TimeoutLongerThanCaller, "t", &spans));
    assert!(!shows(Fault::LockHeldAcrossCall, "t", &spans));
}

#[test]
fn a_call_that_overran_a_short_timeout_on_a_busy_machine_is_no_long_timeout() {
    // The lock fault under load, with a pause of the scheduler: a call with a 500 ms timeout
    // that ended 900 ms after it began, inside a lock the frontend gave up waiting for.
    let spans = outlived_checkout(900, 500, true);
    assert!(shows(Fault::LockHeldAcrossCall, "t", &spans));
    assert!(!shows(Fault::TimeoutLongerThanCaller, "t", &spans));
}
