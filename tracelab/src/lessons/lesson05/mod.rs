//! Notebook 05, what goes on a span: the warehouse whose orders fail at random and the check of
//! how the student records the failures, the messages a batch links to, the sampler asked for a
//! ratio chosen as the check runs, and the lesson's own check.

use std::collections::BTreeSet;

use opentelemetry::trace::TraceId;
use opentelemetry_sdk::trace::InMemorySpanExporter;

use super::finished;
use crate::check::{self, Checklist};
use crate::tr;

mod batch;
mod errors;
mod sampler;

pub use batch::*;
pub use errors::*;
pub use sampler::*;

const LESSON: &str = "05-what-goes-on-a-span";
const SERVICE: &str = "checkout";

/// The lesson's own check: the attributes, events, error, kinds and link of the given cells, and
/// the 25% sampler's measured share.
pub fn check_lesson(
    memory: &InMemorySpanExporter,
    (retry_trace, linked_trace, attempt_trace): (TraceId, TraceId, TraceId),
    sampled_share: f64,
    children_recorded: usize,
    roots_recorded: usize,
) {
    let all = finished(memory, SERVICE);
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 05: what goes on a span",
            pt: "Exercício 05: o que vai em um span",
        ),
        1,
    );
    if let Some(order) = checks.check(
        tr!(en: "a span place_order", pt: "um span place_order"),
        check::latest(&all, "place_order"),
    ) {
        checks.check(
            tr!(en: "it carries order.id", pt: "ele leva order.id"),
            check::attribute(order, "order.id", "A-1042"),
        );
    }
    if let Some(cart) = checks.check(
        tr!(en: "a span load_cart", pt: "um span load_cart"),
        check::latest(&all, "load_cart"),
    ) {
        checks.check(
            tr!(
                en: "load_cart has two events",
                pt: "load_cart tem dois eventos",
            ),
            check::equal(
                tr!(en: "its number of events", pt: "o número de eventos dele"),
                cart.events.len(),
                2,
            ),
        );
    }
    if let Some(charge) = checks.check(
        tr!(en: "a span charge_card", pt: "um span charge_card"),
        check::latest(&all, "charge_card"),
    ) {
        checks.check(
            tr!(
                en: "charge_card's status is Error",
                pt: "o status de charge_card é Error",
            ),
            check::that(
                charge.error.is_some(),
                tr!(en: "its status is not Error", pt: "o status dele não é Error"),
            ),
        );
    }
    let kinds: BTreeSet<&str> = all.iter().map(|span| span.kind.as_str()).collect();
    checks.check(
        tr!(
            en: "all five span kinds were used",
            pt: "os cinco tipos de span foram usados",
        ),
        check::equal(
            tr!(en: "the kinds used", pt: "os tipos usados"),
            kinds.len(),
            5,
        ),
    );
    checks.check(
        tr!(
            en: "the retry links to the failed attempt's trace",
            pt: "a nova tentativa tem um link para o trace da tentativa que falhou",
        ),
        check::that(
            linked_trace == attempt_trace && retry_trace != attempt_trace,
            tr!(
                en: "the link does not point at the other trace",
                pt: "o link não aponta para o outro trace",
            ),
        ),
    );
    checks.check(
        tr!(
            en: "the sampled share is within 4 points of 25%",
            pt: "a taxa amostrada está a menos de 4 pontos de 25%",
        ),
        check::that(
            (sampled_share - 0.25).abs() <= 0.04,
            format!("{:.1}%", sampled_share * 100.0),
        ),
    );
    checks.check(
        tr!(
            en: "children followed their parent's sampling decision",
            pt: "os filhos seguiram a decisão de amostragem do pai",
        ),
        check::equal(
            tr!(en: "children recorded", pt: "filhos registrados"),
            children_recorded,
            roots_recorded,
        ),
    );
    checks.finish();
}
