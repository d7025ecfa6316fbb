//! Notebook 06's two fixes, measured: the quotes asked together instead of one by one, and the
//! database connection's lock held for less, still one order at a time.

use std::time::Duration;

use opentelemetry_sdk::trace::InMemorySpanExporter;

use crate::check::{self, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::lessons::finished;
use crate::model::TraceSpan;
use crate::tr;

use super::{LESSON, SERVICE};

pub const QUOTES_TOGETHER: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-4",
    points: 2,
    title: Text {
        en: "Your turn 4: quote the items together",
        pt: "Sua vez 4: cotar os itens juntos",
    },
    section: Text {
        en: "Your turn 4: quote the items together",
        pt: "Sua vez 4: cotar os itens juntos",
    },
    api: Text {
        en: "`std::thread::scope(|scope| ..)` with `scope.spawn(move || ..)` per item; \
             `Context::current()` taken before the threads start, `clone()`d for each, and \
             `attach()`ed inside it as a guard kept in a named variable.",
        pt: "`std::thread::scope(|scope| ..)` com `scope.spawn(move || ..)` para cada item; \
             `Context::current()` pego antes de as threads começarem, com `clone()` para cada \
             uma, e `attach()` dentro dela, como um guard guardado em uma variável com nome.",
    },
    change: Text {
        en: "Take the current context first. Inside a thread scope, loop over the items: for \
             each, clone the context and spawn a thread that attaches its clone, keeps the guard, \
             and quotes its item.",
        pt: "Pegue o contexto atual primeiro. Dentro de um scope de threads, percorra os itens: \
             para cada um, clone o contexto e crie uma thread que faz attach do seu clone, guarda \
             o guard e cota o seu item.",
    },
};

/// Your turn 4: the last order's four quotes are children of its `GET /order`, ran at the same
/// time, and the order got at least 90 ms faster (120 ms expected: three quotes no longer wait).
pub fn quotes_together(memory: &InMemorySpanExporter, before: Duration, after: Duration) {
    let spans = finished(memory, SERVICE);
    let mut checks = Checklist::exercise(&QUOTES_TOGETHER);
    if let Some(request) = checks.check(
        tr!(en: "the last order ran", pt: "o último pedido rodou"),
        check::latest(&spans, "GET /order"),
    ) {
        let quotes: Vec<&TraceSpan> = spans
            .iter()
            .filter(|span| span.name == "quote_item" && span.trace_id == request.trace_id)
            .collect();
        let orphans = spans
            .iter()
            .filter(|span| {
                span.name == "quote_item"
                    && span.parent_id.is_none()
                    && span.start_ns >= request.start_ns
            })
            .count();
        checks.check(
            tr!(
                en: "its four quotes are in its trace, children of GET /order",
                pt: "as quatro cotações estão no trace dele, filhas de GET /order",
            ),
            if quotes.len() == 4
                && quotes
                    .iter()
                    .all(|quote| quote.parent_id.as_deref() == Some(request.span_id.as_str()))
            {
                Ok(())
            } else if orphans > 0 {
                Err(CheckFailed(tr!(
                    en: format!(
                        "{orphans} quote_item span(s) of the last order are roots of traces of \
                         their own: on their threads, no span was active when they started."
                    ),
                    pt: format!(
                        "{orphans} span(s) quote_item do último pedido são raízes de traces \
                         próprios: nas threads deles, nenhum span estava ativo quando começaram."
                    ),
                )))
            } else {
                Err(CheckFailed(tr!(
                    en: format!(
                        "the order's trace holds {} quote_item span(s) under GET /order, 4 \
                         expected.",
                        quotes
                            .iter()
                            .filter(|quote| quote.parent_id.as_deref() == Some(request.span_id.as_str()))
                            .count()
                    ),
                    pt: format!(
                        "o trace do pedido tem {} span(s) quote_item debaixo de GET /order, \
                         eram esperados 4.",
                        quotes
                            .iter()
                            .filter(|quote| quote.parent_id.as_deref() == Some(request.span_id.as_str()))
                            .count()
                    ),
                )))
            },
        );
        let last_start = quotes.iter().map(|quote| quote.start_ns).max().unwrap_or(0);
        let first_end = quotes.iter().map(|quote| quote.end_ns).min().unwrap_or(0);
        checks.check(
            tr!(
                en: "the quotes run at the same time",
                pt: "as cotações rodam ao mesmo tempo",
            ),
            check::that(
                !quotes.is_empty() && last_start < first_end,
                tr!(
                    en: "the quotes still come one after another: each starts after another \
                         ended.",
                    pt: "as cotações ainda vêm uma depois da outra: cada uma começa depois que \
                         outra terminou.",
                ),
            ),
        );
    }
    // Three quotes of 40 ms no longer wait: 120 ms, of which 90 ms at least must show.
    let saved = before.saturating_sub(after);
    checks.check(
        tr!(
            en: "the order is at least 90 ms faster (120 ms expected)",
            pt: "o pedido ficou pelo menos 90 ms mais rápido (120 ms esperados)",
        ),
        check::that(
            saved >= Duration::from_millis(90),
            tr!(
                en: format!(
                    "it took {} ms one by one and {} ms together: {} ms faster.",
                    before.as_millis(),
                    after.as_millis(),
                    saved.as_millis()
                ),
                pt: format!(
                    "ele levou {} ms uma a uma e {} ms juntas: {} ms mais rápido.",
                    before.as_millis(),
                    after.as_millis(),
                    saved.as_millis()
                ),
            ),
        ),
    );
    checks.finish();
}

pub const LOCK: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-5",
    points: 2,
    title: Text {
        en: "Your turn 5: hold the lock for less",
        pt: "Sua vez 5: segurar a trava por menos tempo",
    },
    section: Text {
        en: "The lock, under load",
        pt: "A trava, sob carga",
    },
    api: Text {
        en: "The guard `lock()` returns holds the connection until it is dropped; \
             `drop(connection)` gives it back at that line; `query` and `parse_customer` are the \
             two steps to separate.",
        pt: "O guard que `lock()` devolve segura a conexão até ser descartado; \
             `drop(connection)` a devolve naquela linha; `query` e `parse_customer` são os dois \
             passos a separar.",
    },
    change: Text {
        en: "Take the connection inside a wait_for_connection span as load_customer does, run \
             the query, give the connection back, and only then parse the customer.",
        pt: "Pegue a conexão dentro de um span wait_for_connection como load_customer faz, rode \
             a query, devolva a conexão e só depois faça o parsing do cliente.",
    },
};

/// Your turn 5: eight orders at once with the student's `load_customer_briefly` all waited for
/// the connection in a span of their own, used it one at a time (`most_queries_at_once`), let
/// another order query while they parsed, and the last one waited about seven parsing times
/// less than `slow_wait`.
pub fn lock_held_less(
    memory: &InMemorySpanExporter,
    slow_wait: Duration,
    brief_wait: Duration,
    most_queries_at_once: usize,
) {
    let spans = finished(memory, SERVICE);
    let mut checks = Checklist::exercise(&LOCK);
    let loads: Vec<&TraceSpan> = spans
        .iter()
        .filter(|span| span.name == "load_customer")
        .collect();
    let waited = loads
        .iter()
        .filter(|load| check::child(&spans, load, "wait_for_connection").is_ok())
        .count();
    let waits_in_spans = checks.check(
        tr!(
            en: "each order waits for the connection in a wait_for_connection span",
            pt: "cada pedido espera pela conexão em um span wait_for_connection",
        ),
        check::that(
            !loads.is_empty() && waited == loads.len(),
            tr!(
                en: format!(
                    "{} of {} load_customer spans have a wait_for_connection inside: the others' \
                     wait is invisible in the trace.",
                    waited,
                    loads.len()
                ),
                pt: format!(
                    "{} de {} spans load_customer têm um wait_for_connection dentro: a espera \
                     dos outros fica invisível no trace.",
                    waited,
                    loads.len()
                ),
            ),
        ),
    );
    let exclusive = checks.check(
        tr!(
            en: "one query at a time on the one connection",
            pt: "uma query por vez na única conexão",
        ),
        check::that(
            most_queries_at_once <= 1,
            tr!(
                en: format!(
                    "{most_queries_at_once} queries ran on the one connection at the same moment: \
                     orders used it without holding it."
                ),
                pt: format!(
                    "{most_queries_at_once} queries rodaram na única conexão no mesmo momento: \
                     pedidos a usaram sem segurá-la."
                ),
            ),
        ),
    );
    let overlap_what = tr!(
        en: "while one order parses, another's query can run",
        pt: "enquanto um pedido faz o parsing, a query de outro pode rodar",
    );
    let saving_what = tr!(
        en: "the last order waits about seven parsing times less",
        pt: "o último pedido espera cerca de sete tempos de parsing a menos",
    );
    // Timing only means something once the lock is taken in its own span and held alone.
    if waits_in_spans.is_none() || exclusive.is_none() {
        checks.skipped(overlap_what);
        checks.skipped(saving_what);
        checks.finish();
        return;
    }
    let queries: Vec<&TraceSpan> = spans
        .iter()
        .filter(|span| span.name == "SELECT customers")
        .collect();
    let parses: Vec<&TraceSpan> = spans
        .iter()
        .filter(|span| span.name == "parse_customer")
        .collect();
    let overlapping = parses.iter().any(|parse| {
        queries.iter().any(|query| {
            query.trace_id != parse.trace_id
                && query.start_ns < parse.end_ns
                && parse.start_ns < query.end_ns
        })
    });
    checks.check(
        overlap_what,
        check::that(
            overlapping,
            tr!(
                en: "no order's query ran while another order parsed: the connection is still \
                     held through the parsing.",
                pt: "a query de nenhum pedido rodou enquanto outro pedido fazia o parsing: a \
                     conexão ainda fica presa durante o parsing.",
            ),
        ),
    );
    let parse_ns = if parses.is_empty() {
        0
    } else {
        parses.iter().map(|parse| parse.duration_ns()).sum::<u128>() / parses.len() as u128
    };
    let expected = Duration::from_nanos((7 * parse_ns) as u64);
    let saved = slow_wait.saturating_sub(brief_wait);
    checks.check(
        saving_what,
        check::that(
            !parses.is_empty() && saved.as_secs_f64() >= 0.6 * expected.as_secs_f64(),
            tr!(
                en: format!(
                    "it waits {} ms less; seven orders ahead of it, each parsing for {} ms, \
                     make {} ms.",
                    saved.as_millis(),
                    parse_ns / 1_000_000,
                    expected.as_millis()
                ),
                pt: format!(
                    "ele espera {} ms a menos; sete pedidos à frente dele, cada um fazendo \
                     parsing por {} ms, dão {} ms.",
                    saved.as_millis(),
                    parse_ns / 1_000_000,
                    expected.as_millis()
                ),
            ),
        ),
    );
    checks.finish();
}
