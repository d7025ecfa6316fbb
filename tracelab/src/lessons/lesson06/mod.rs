//! Notebook 06, find the slow part: the database's times drawn for the run, the checks of what
//! the student reads in the trace, predicts and fixes, and the lesson's own check.

use std::time::Duration;

use crate::check::{self, calling, CheckFailed, Checklist};
use crate::critical_path::CriticalPath;
use crate::exercise::{Exercise, Text};
use crate::model::TraceSpan;
use crate::tr;

mod fixes;

pub use fixes::*;

const LESSON: &str = "06-find-the-slow-part";
const SERVICE: &str = "shop";
/// Four quotes of 40 ms, one after another: what the first order spends on them.
const QUOTES: Duration = Duration::from_millis(160);

/// How long the database's query and the parsing of its answer take in this run, in
/// milliseconds: 20 to 45, and 10 to 30, in steps of 5.
pub fn database_times() -> (u64, u64) {
    (5 * fastrand::u64(4..=9), 5 * fastrand::u64(2..=6))
}

pub const HOLDS_UP: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 1,
    title: Text {
        en: "Your turn 1: what holds the request up?",
        pt: "Sua vez 1: o que segura a requisição?",
    },
    section: Text {
        en: "The trace of one order",
        pt: "O trace de um pedido",
    },
    api: Text {
        en: "The line under the first waterfall lists the span names by their time on the \
             critical path, most first; `holds_up` is a text (`\"...\"`).",
        pt: "A linha debaixo do primeiro waterfall lista os nomes dos spans pelo tempo no \
             caminho crítico, do maior para o menor; `holds_up` é um texto (`\"...\"`).",
    },
    change: Text {
        en: "Take the first name in that line that is not GET /order, and put it in holds_up.",
        pt: "Pegue o primeiro nome dessa linha que não é GET /order e ponha-o em holds_up.",
    },
};

/// Your turn 1: `holds_up` names the span with the most time on the first order's critical path,
/// the request's own span aside.
pub fn holds_up(first_trace: &[TraceSpan], holds_up: &str) {
    let times = CriticalPath::of_latest(first_trace).time_by_name();
    let steps: Vec<&(String, u128)> = times
        .iter()
        .filter(|(name, _)| name != "GET /order")
        .collect();
    let mut checks = Checklist::exercise(&HOLDS_UP);
    let verdict = match (
        steps.first(),
        steps.iter().find(|(name, _)| name == holds_up),
    ) {
        (None, _) => Err(CheckFailed(
            tr!(
                en: "the first order's trace has no critical path: run the cell that places it.",
                pt: "o trace do primeiro pedido não tem caminho crítico: execute a célula que o \
                     faz.",
            )
            .to_owned(),
        )),
        (Some((worst, _)), _) if worst == holds_up => Ok(()),
        (_, _) if holds_up.is_empty() => Err(CheckFailed(
            tr!(en: "holds_up is empty.", pt: "holds_up está vazio.").to_owned(),
        )),
        (_, _) if holds_up == "GET /order" => Err(CheckFailed(
            tr!(
                en: "GET /order is the request itself: the question is which of its steps \
                     holds it up.",
                pt: "GET /order é a própria requisição: a pergunta é qual dos passos dela a \
                     segura.",
            )
            .to_owned(),
        )),
        (Some((worst, most)), Some((_, time))) => Err(CheckFailed(tr!(
            en: format!(
                "{holds_up:?} spent {} on the critical path, {worst:?} {}.",
                crate::model::human_duration(*time),
                crate::model::human_duration(*most)
            ),
            pt: format!(
                "{holds_up:?} passou {} no caminho crítico, {worst:?} {}.",
                crate::model::human_duration(*time),
                crate::model::human_duration(*most)
            ),
        ))),
        (Some(_), None) => Err(CheckFailed(tr!(
            en: format!("no span on the first order's critical path is named {holds_up:?}."),
            pt: format!(
                "nenhum span no caminho crítico do primeiro pedido se chama {holds_up:?}."
            ),
        ))),
    };
    checks.check(
        tr!(
            en: "holds_up is the span with the most time on the critical path",
            pt: "holds_up é o span com mais tempo no caminho crítico",
        ),
        verdict,
    );
    checks.finish();
}

pub const STAIRCASE: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 1,
    title: Text {
        en: "Your turn 2: why a staircase?",
        pt: "Sua vez 2: por que uma escada?",
    },
    section: Text {
        en: "The order's steps",
        pt: "Os passos do pedido",
    },
    api: Text {
        en: "Read `quote_items_one_by_one` and `quote_item` in the steps' cell: what does a quote \
             use, and what makes the next one start?",
        pt: "Leia `quote_items_one_by_one` e `quote_item` na célula dos passos: o que uma cotação \
             usa, e o que faz a próxima começar?",
    },
    change: Text {
        en: "quote_item uses nothing but its own item, and the loop calls the next quote only \
             when the previous call has returned: pick the sentence that says the code, not the \
             data or the service, orders them.",
        pt: "quote_item não usa nada além do próprio item, e o laço só chama a próxima cotação \
             quando a anterior retornou: escolha a frase que diz que é o código, não os dados nem \
             o serviço, que as enfileira.",
    },
};

/// Your turn 2: the staircase comes from the code (`'b'`).
pub fn staircase(because: char) {
    let mut checks = Checklist::exercise(&STAIRCASE);
    let verdict = match because {
        'b' => Ok(()),
        'a' => Err(CheckFailed(
            tr!(
                en: "'a' says each quote needs the previous one's answer, but quote_item uses \
                     only its own item: the four could all start at once.",
                pt: "'a' diz que cada cotação precisa da resposta da anterior, mas quote_item só \
                     usa o próprio item: as quatro poderiam começar juntas.",
            )
            .to_owned(),
        )),
        'c' => Err(CheckFailed(
            tr!(
                en: "'c' blames the pricing service, but it was never asked for two quotes at \
                     a time: nothing shows it would refuse.",
                pt: "'c' culpa o serviço de preços, mas ele nunca recebeu dois pedidos de \
                     cotação ao mesmo tempo: nada mostra que ele recusaria.",
            )
            .to_owned(),
        )),
        other => Err(CheckFailed(tr!(
            en: format!("{other:?} is none of 'a', 'b' and 'c'."),
            pt: format!("{other:?} não é nenhum de 'a', 'b' e 'c'."),
        ))),
    };
    checks.check(
        tr!(
            en: "the reason is the code's, not the data's",
            pt: "o motivo é do código, não dos dados",
        ),
        verdict,
    );
    checks.finish();
}

pub const PREDICTED_WAIT: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-3",
    points: 1,
    title: Text {
        en: "Your turn 3: predict the wait",
        pt: "Sua vez 3: preveja a espera",
    },
    section: Text {
        en: "The lock, under load",
        pt: "A trava, sob carga",
    },
    api: Text {
        en: "`shop.query` and `shop.parse` are `Duration`s: add them, and `.as_millis()` gives \
             milliseconds (a `u128`; `as u64` makes it the type of `predicted_wait_ms`).",
        pt: "`shop.query` e `shop.parse` são `Duration`s: some-os, e `.as_millis()` dá os \
             milissegundos (um `u128`; `as u64` o deixa do tipo de `predicted_wait_ms`).",
    },
    change: Text {
        en: "The last of eight waits while each of the seven before it holds the connection, \
             and each holds it for its query and its parsing: multiply that hold by the number \
             of orders ahead of the last one.",
        pt: "O último dos oito espera enquanto cada um dos sete à frente dele segura a conexão, \
             e cada um a segura pela query e pelo parsing: multiplique esse tempo pelo número de \
             pedidos à frente do último.",
    },
};

/// Your turn 3: the prediction is within half of one order's hold of the wait `measure` measures
/// now (eight orders at once, the last one's wait for the connection).
pub fn predicted_wait(predicted_ms: u64, measure: impl FnOnce() -> Duration) {
    let mut checks = Checklist::exercise(&PREDICTED_WAIT);
    let what = tr!(
        en: "the prediction matches the wait measured now",
        pt: "a previsão bate com a espera medida agora",
    );
    let verdict = calling("concurrent_orders", measure).and_then(|measured| {
        let measured = measured.as_millis() as u64;
        // Seven holds make the wait: half of one is the margin.
        let margin = measured / 14;
        check::that(
            predicted_ms.abs_diff(measured) <= margin,
            tr!(
                en: format!(
                    "you predicted {predicted_ms} ms; eight orders at once just now: the last \
                     waited {measured} ms."
                ),
                pt: format!(
                    "você previu {predicted_ms} ms; oito pedidos de uma vez agora: o último \
                     esperou {measured} ms."
                ),
            ),
        )
    });
    checks.check(what, verdict);
    checks.finish();
}

/// The lesson's own check: the first order took the time of its steps (`hold`, the query and
/// the parsing, plus four quotes), eight orders at once queued for the connection, and the first
/// order's trace holds its steps.
pub fn check_lesson(
    first_trace: &[TraceSpan],
    first: Duration,
    slow_wait: Duration,
    hold: Duration,
) {
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 06: find the slow part",
            pt: "Exercício 06: ache a parte lenta",
        ),
        1,
    );
    checks.check(
        tr!(
            en: "the first order took the time of its steps",
            pt: "o primeiro pedido levou o tempo dos seus passos",
        ),
        check::that(
            first >= hold + QUOTES && first < hold + QUOTES + Duration::from_millis(400),
            tr!(
                en: format!("it took {} ms", first.as_millis()),
                pt: format!("ele levou {} ms", first.as_millis()),
            ),
        ),
    );
    checks.check(
        tr!(
            en: "eight orders at once queued for the connection",
            pt: "oito pedidos de uma vez fizeram fila pela conexão",
        ),
        check::that(
            slow_wait >= hold * 5,
            tr!(
                en: format!("the last waited {} ms", slow_wait.as_millis()),
                pt: format!("o último esperou {} ms", slow_wait.as_millis()),
            ),
        ),
    );
    if let Some(request) = checks.check(
        tr!(
            en: "the first order was traced",
            pt: "o primeiro pedido foi rastreado",
        ),
        check::latest(first_trace, "GET /order"),
    ) {
        checks.check(
            tr!(
                en: "load_customer is one of its steps",
                pt: "load_customer é um dos passos dele",
            ),
            check::child(first_trace, request, "load_customer").map(|_| ()),
        );
    }
    if let Some(load) = checks.check(
        tr!(en: "a load_customer span", pt: "um span load_customer"),
        check::latest(first_trace, "load_customer"),
    ) {
        checks.check(
            tr!(
                en: "its query is inside it",
                pt: "a query dele está dentro dele",
            ),
            check::child(first_trace, load, "SELECT customers").map(|_| ()),
        );
    }
    checks.finish();
}
