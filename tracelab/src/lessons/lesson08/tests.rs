//! The shop's faults against the real services: each planted fault shows in the traces of a
//! drive, no fault shows in a shop that has none (so that a finding can only be right when the
//! fault is there), and the repairs take every fault away.

use super::faults::{traces_showing, Fault, Repair};
use super::shop::{Config, Plan, Shop, CHECKOUTS};
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
