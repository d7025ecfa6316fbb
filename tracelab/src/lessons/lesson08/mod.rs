//! Notebook 08, what is wrong with this shop?: the shop with its planted faults ([`Shop`]), the
//! faults, findings and repairs ([`Fault`], [`Finding`], [`Repair`]), and the checks of the
//! student's diagnosis and repairs.

mod faults;
mod services;
mod shop;

pub use faults::{Fault, Finding, Repair};
pub use shop::{Checkout, Shop, Traffic, CHECKOUTS, FRONTEND_TIMEOUT, SEED_VARIABLE};

use crate::check::{self, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::recorder::Recorder;
use crate::tr;

const LESSON: &str = "08-what-is-wrong-with-this-shop";

pub const FINDINGS: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 4,
    title: Text {
        en: "Your turn 1: what is wrong with this shop?",
        pt: "Sua vez 1: o que há de errado com esta loja?",
    },
    section: Text {
        en: "How each fault shows in a trace",
        pt: "Como cada falha aparece em um trace",
    },
    api: Text {
        en: "`Finding::new(Fault::..., \"trace id\")` names a fault and the trace that shows it; \
             `traffic.trace(id)` gives a trace's spans, `tracelab::TraceList::of(&traffic.spans)` \
             lists the traces, and `tracelab::search::compare` sets two side by side.",
        pt: "`Finding::new(Fault::..., \"trace id\")` nomeia uma falha e o trace que a mostra; \
             `traffic.trace(id)` dá os spans de um trace, \
             `tracelab::TraceList::of(&traffic.spans)` lista os traces, e \
             `tracelab::search::compare` põe dois lado a lado.",
    },
    change: Text {
        en: "Go through the seven signatures one by one: for each, look for a trace of this \
             drive that shows it (the slowest, a failed one, one compared with a good one of the \
             same cart). Every fault you see, add with the id of a trace that shows it; leave out \
             any you cannot point at.",
        pt: "Percorra as sete assinaturas uma a uma: para cada uma, procure um trace desta \
             rodada que a mostre (o mais lento, um que falhou, um comparado com um bom do mesmo \
             cart). Cada falha que você vir, acrescente com o id de um trace que a mostra; deixe \
             de fora as que você não consegue apontar.",
    },
};

/// Your turn 1: every finding points at a trace of the shop that shows its fault, and every
/// fault of the shop is among them. A fault the shop does not have shows in none of its traces,
/// so a wrong finding fails on its evidence; which faults are missing is not said.
pub fn findings(shop: &Shop, findings: &[Finding]) {
    let spans = shop.spans();
    let mut checks = Checklist::exercise(&FINDINGS);
    let mut shown = Vec::new();
    for finding in findings {
        let what = tr!(
            en: format!("trace {} shows {}", short(&finding.trace_id), finding.fault),
            pt: format!("o trace {} mostra {}", short(&finding.trace_id), finding.fault),
        );
        let verdict = if !spans.iter().any(|span| span.trace_id == finding.trace_id) {
            Err(CheckFailed(tr!(
                en: format!(
                    "no trace of this shop has the id {:?}: copy it from the list of the drive.",
                    finding.trace_id
                ),
                pt: format!(
                    "nenhum trace desta loja tem o id {:?}: copie-o da lista da rodada.",
                    finding.trace_id
                ),
            )))
        } else if faults::shows(finding.fault, &finding.trace_id, &spans) {
            shown.push(finding.fault);
            Ok(())
        } else {
            Err(CheckFailed(tr!(
                en: format!(
                    "nothing in that trace has the signature of {:?}: look again at what the \
                     signature says, or at another trace.",
                    finding.fault
                ),
                pt: format!(
                    "nada nesse trace tem a assinatura de {:?}: olhe de novo o que a assinatura \
                     diz, ou outro trace.",
                    finding.fault
                ),
            )))
        };
        checks.check(&what, verdict);
    }
    let planted = &shop.plan.faults;
    let found = planted.iter().filter(|fault| shown.contains(fault)).count();
    checks.check(
        &tr!(
            en: format!("all {} faults of this shop are found", planted.len()),
            pt: format!("as {} falhas desta loja foram achadas", planted.len()),
        ),
        check::that(
            found == planted.len(),
            tr!(
                en: format!(
                    "{found} of {} are among your findings, with a trace that shows them; the \
                     others are still to find.",
                    planted.len()
                ),
                pt: format!(
                    "{found} de {} estão entre as suas descobertas, com um trace que as mostra; \
                     as outras ainda estão por achar.",
                    planted.len()
                ),
            ),
        ),
    );
    checks.finish();
}

pub const REPAIRS: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 4,
    title: Text {
        en: "Your turn 2: repair the shop",
        pt: "Sua vez 2: conserte a loja",
    },
    section: Text {
        en: "The repairs",
        pt: "Os consertos",
    },
    api: Text {
        en: "`Repair` has one variant per fault; `RetryWithBackoff { attempts, backoff_ms }` and \
             `PaymentsTimeout { ms }` take values you choose from the traces (the attribute \
             `lab.timeout_ms` of each call says how long its caller waits).",
        pt: "`Repair` tem uma variante por falha; `RetryWithBackoff { attempts, backoff_ms }` e \
             `PaymentsTimeout { ms }` recebem valores que você escolhe pelos traces (o atributo \
             `lab.timeout_ms` de cada chamada diz quanto quem chama espera).",
    },
    change: Text {
        en: "Put in repairs one repair for each fault you found, and none for the others. For the \
             retries, a few attempts with a pause between them; for the timeout, less than the \
             frontend waits for the orders service, with room left for a second attempt.",
        pt: "Ponha em repairs um conserto para cada falha que você achou, e nenhum para as \
             outras. Para as novas tentativas, poucas tentativas com uma pausa entre elas; para o \
             timeout, menos do que o frontend espera pelo serviço orders, com folga para uma \
             segunda tentativa.",
    },
};

/// Your turn 2: the same shop with `repairs` made, driven again: no trace shows any of its faults,
/// no repair was made where no fault was, and every checkout works but those whose payment fails
/// for good.
pub fn repairs(shop: &Shop, repairs: &[Repair]) {
    let mut checks = Checklist::exercise(&REPAIRS);
    let repaired = shop.repaired(repairs, || None::<Recorder>);
    let traffic = repaired.drive(CHECKOUTS);
    for fault in &shop.plan.faults {
        let still = faults::traces_showing(*fault, &traffic.spans);
        let addressed = repairs.iter().any(|repair| repair.cures() == *fault);
        let what = if addressed {
            tr!(
                en: format!("{fault} is gone from every new trace"),
                pt: format!("{fault} sumiu de todos os traces novos"),
            )
        } else {
            tr!(
                en: "a fault of this shop is gone from every new trace".to_owned(),
                pt: "uma falha desta loja sumiu de todos os traces novos".to_owned(),
            )
        };
        let verdict = match still.first() {
            None => Ok(()),
            Some(trace) if addressed => Err(CheckFailed(tr!(
                en: format!(
                    "after your repair, trace {} still shows {fault}: the values you chose do \
                     not cure it.",
                    short(trace)
                ),
                pt: format!(
                    "depois do seu conserto, o trace {} ainda mostra {fault}: os valores que \
                     você escolheu não a curam.",
                    short(trace)
                ),
            ))),
            Some(trace) => Err(CheckFailed(tr!(
                en: format!(
                    "trace {} of the repaired shop still shows a fault none of your repairs \
                     addresses.",
                    short(trace)
                ),
                pt: format!(
                    "o trace {} da loja consertada ainda mostra uma falha que nenhum conserto \
                     seu trata.",
                    short(trace)
                ),
            ))),
        };
        checks.check(&what, verdict);
    }
    let needless: Vec<String> = repairs
        .iter()
        .filter(|repair| !shop.plan.faults.contains(&repair.cures()))
        .map(|repair| format!("{repair:?}"))
        .collect();
    checks.check(
        tr!(
            en: "every repair cures a fault this shop has",
            pt: "todo conserto cura uma falha que esta loja tem",
        ),
        check::that(
            needless.is_empty(),
            tr!(
                en: format!(
                    "{} change(s) what no trace showed broken: a change without a cause in the \
                     traces is a guess.",
                    needless.join(", ")
                ),
                pt: format!(
                    "{} muda(m) o que nenhum trace mostrou quebrado: uma mudança sem causa nos \
                     traces é um chute.",
                    needless.join(", ")
                ),
            ),
        ),
    );
    let failing = shop.plan_failing();
    let broken: Vec<u32> = traffic
        .checkouts
        .iter()
        .enumerate()
        .filter(|(index, checkout)| {
            !failing.contains(&(*index as u32 + 1)) && checkout.status != 200
        })
        .map(|(_, checkout)| checkout.checkout)
        .collect();
    checks.check(
        tr!(
            en: "every checkout works, but those whose card is refused",
            pt: "todo checkout funciona, menos aqueles cujo cartão é recusado",
        ),
        check::that(
            broken.is_empty(),
            tr!(
                en: format!(
                    "checkout(s) {broken:?} failed after the repairs, though their payment works: \
                     a repair broke them."
                ),
                pt: format!(
                    "o(s) checkout(s) {broken:?} falharam depois dos consertos, embora o \
                     pagamento deles funcione: um conserto os quebrou."
                ),
            ),
        ),
    );
    checks.finish();
}

/// The first eight hex digits of a trace id, with an ellipsis, as the lesson's lists show them.
fn short(trace_id: &str) -> String {
    if trace_id.len() > 8 {
        format!("{}…", &trace_id[..8])
    } else {
        trace_id.to_owned()
    }
}

/// The lesson's own check: the shop served the drive's checkouts, all four services and the
/// worker traced them, and each checkout is a trace rooted at the frontend.
pub fn check_lesson(traffic: &Traffic) {
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 08: what is wrong with this shop?",
            pt: "Exercício 08: o que há de errado com esta loja?",
        ),
        1,
    );
    checks.check(
        &tr!(
            en: format!("the drive sent {CHECKOUTS} checkouts"),
            pt: format!("a rodada enviou {CHECKOUTS} checkouts"),
        ),
        check::equal(
            tr!(en: "the checkouts", pt: "os checkouts"),
            traffic.checkouts.len(),
            CHECKOUTS as usize,
        ),
    );
    let mut services: Vec<&str> = traffic
        .spans
        .iter()
        .map(|span| span.service.as_str())
        .collect();
    services.sort_unstable();
    services.dedup();
    checks.check(
        tr!(
            en: "the four services traced them",
            pt: "os quatro serviços os rastrearam",
        ),
        check::equal(
            tr!(en: "the services", pt: "os serviços"),
            services,
            vec!["frontend", "inventory", "orders", "payments"],
        ),
    );
    checks.check(
        tr!(
            en: "each checkout is a trace whose root is GET /checkout",
            pt: "cada checkout é um trace cuja raiz é GET /checkout",
        ),
        check::that(
            traffic.checkouts.iter().all(|checkout| {
                traffic.spans.iter().any(|span| {
                    span.trace_id == checkout.trace_id
                        && span.name == "GET /checkout"
                        && span.parent_id.is_none()
                })
            }),
            tr!(
                en: "a checkout has no root span GET /checkout",
                pt: "um checkout não tem o span raiz GET /checkout",
            ),
        ),
    );
    checks.finish();
}

#[cfg(test)]
mod tests;
