//! Notebook 07, the `tracing` crate: the stock the student's `reserve_stock` takes from, the
//! checks of the student's instrumentation, queue and receiving side, and the lesson's own check.

use std::collections::HashMap;
use std::sync::Mutex;

use opentelemetry_sdk::logs::InMemoryLogExporter;
use opentelemetry_sdk::trace::InMemorySpanExporter;

use super::finished;
use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::model::TraceSpan;
use crate::tr;

const LESSON: &str = "07-the-tracing-crate";
const SERVICE: &str = "tracing_example";

/// A warehouse's stock: how many of each item are left. Items it never had have none.
#[derive(Debug, Default)]
pub struct Stock {
    levels: Mutex<HashMap<String, u32>>,
}

impl Stock {
    /// The stock of the lesson's items, `A-1042` and `B-7`, drawn now: 3 to 20 of each.
    pub fn filled() -> Stock {
        Stock::with(&[
            ("A-1042", fastrand::u32(3..=20)),
            ("B-7", fastrand::u32(3..=20)),
        ])
    }

    fn with(levels: &[(&str, u32)]) -> Stock {
        Stock {
            levels: Mutex::new(
                levels
                    .iter()
                    .map(|(item, level)| ((*item).to_owned(), *level))
                    .collect(),
            ),
        }
    }

    /// Takes `quantity` of `item` (as many as there are, at most), and says how many are left.
    pub fn take(&self, item: &str, quantity: u32) -> u32 {
        let Ok(mut levels) = self.levels.lock() else {
            return 0;
        };
        let level = levels.entry(item.to_owned()).or_insert(0);
        *level = level.saturating_sub(quantity);
        *level
    }
}

/// The event of `span` named `name`, as its name and its attributes.
fn event<'a>(span: &'a TraceSpan, name: &str) -> Option<&'a str> {
    span.events
        .iter()
        .find(|event| event.starts_with(&format!("{name} (")))
        .map(String::as_str)
}

pub const INSTRUMENTED: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 2,
    title: Text {
        en: "Your turn 1: instrument a function",
        pt: "Sua vez 1: instrumentar uma função",
    },
    section: Text {
        en: "Fields become attributes",
        pt: "Campos viram atributos",
    },
    api: Text {
        en: "`#[instrument(skip(..))]` above `fn` makes the span and leaves the named arguments \
             out; `warn!(remaining, \"...\")` and `info!(remaining, \"...\")` record an event with \
             the field `remaining`; an `if` on `remaining < LOW_STOCK` picks one.",
        pt: "`#[instrument(skip(..))]` acima do `fn` cria o span e deixa de fora os argumentos \
             nomeados; `warn!(remaining, \"...\")` e `info!(remaining, \"...\")` registram um \
             evento com o campo `remaining`; um `if` em `remaining < LOW_STOCK` escolhe um deles.",
    },
    change: Text {
        en: "Put the instrument attribute on reserve_stock, skipping stock. After the take, if \
             fewer than LOW_STOCK are left, record a warning with remaining as a field and the \
             message stock low; otherwise an info event with remaining and the message stock \
             reserved.",
        pt: "Ponha o atributo instrument em reserve_stock, pulando stock. Depois do take, se \
             sobrarem menos de LOW_STOCK, registre um aviso com remaining como campo e a mensagem \
             stock low; senão, um evento info com remaining e a mensagem stock reserved.",
    },
};

/// Your turn 1: the student's `reserve_stock`, asked for an item that runs low and one that does
/// not, from a stock filled now, makes a span with `item` and `quantity` but not the stock, and
/// the right event at the right level with `remaining`.
pub fn instrumented(memory: &InMemorySpanExporter, reserve_stock: impl Fn(&str, u32, &Stock)) {
    let quantity = fastrand::u32(1..=3);
    let low = format!("C-{}", fastrand::u32(100..1000));
    let plenty = format!("D-{}", fastrand::u32(100..1000));
    let low_left = fastrand::u32(1..=4);
    let plenty_left = fastrand::u32(10..=40);
    let stock = Stock::with(&[
        (&low, low_left + quantity),
        (&plenty, plenty_left + quantity),
    ]);
    let mut checks = Checklist::exercise(&INSTRUMENTED);
    for item in [&low, &plenty] {
        if let Err(panicked) = calling("reserve_stock", || reserve_stock(item, quantity, &stock)) {
            checks.check(
                tr!(en: "reserve_stock runs", pt: "reserve_stock roda"),
                Err::<(), _>(panicked),
            );
            checks.finish();
            return;
        }
    }
    let spans = finished(memory, SERVICE);
    let span_of = |item: &str| {
        spans
            .iter()
            .filter(|span| {
                span.name == "reserve_stock"
                    && span
                        .attributes
                        .iter()
                        .any(|(k, v)| k == "item" && v == item)
            })
            .max_by_key(|span| span.start_ns)
            .ok_or_else(|| {
                CheckFailed(tr!(
                    en: format!(
                        "no span reserve_stock carries item = {item}: the function makes no span, \
                         or its argument item is not a field of it."
                    ),
                    pt: format!(
                        "nenhum span reserve_stock leva item = {item}: a função não cria span, ou \
                         o argumento item não é um campo dele."
                    ),
                ))
            })
    };
    let Some(low_span) = checks.check(
        tr!(
            en: "reserve_stock is a span, with item and quantity as fields",
            pt: "reserve_stock é um span, com item e quantity como campos",
        ),
        span_of(&low).and_then(|span| {
            check::attribute(span, "quantity", &quantity.to_string())?;
            Ok(span)
        }),
    ) else {
        checks.finish();
        return;
    };
    checks.check(
        tr!(
            en: "the stock is not one of its fields",
            pt: "o estoque não é um dos campos dele",
        ),
        match low_span.attributes.iter().find(|(key, _)| key == "stock") {
            None => Ok(()),
            Some((_, value)) => Err(CheckFailed(tr!(
                en: format!(
                    "reserve_stock carries the whole stock as a field, stock = {}: every \
                     reservation copies the warehouse into its span.",
                    value.chars().take(60).collect::<String>()
                ),
                pt: format!(
                    "reserve_stock leva o estoque inteiro como campo, stock = {}: cada reserva \
                     copia o armazém para o seu span.",
                    value.chars().take(60).collect::<String>()
                ),
            ))),
        },
    );
    for (item, left, name, level) in [
        (&low, low_left, "stock low", "WARN"),
        (&plenty, plenty_left, "stock reserved", "INFO"),
    ] {
        let what = tr!(
            en: format!("with {left} left of {item}, an event \"{name}\" at level {level} with remaining = {left}"),
            pt: format!(
                "com {left} restantes de {item}, um evento {level} \"{name}\" com remaining = {left}"
            ),
        );
        let verdict = span_of(item).and_then(|span| match event(span, name) {
            Some(found) if !found.contains(&format!("level = {level}")) => Err(CheckFailed(tr!(
                en: format!("the event is {found}: not at level {level}."),
                pt: format!("o evento é {found}: não está no nível {level}."),
            ))),
            Some(found) if !found.contains(&format!("remaining = {left}")) => {
                Err(CheckFailed(tr!(
                    en: format!("the event is {found}: it has no field remaining = {left}."),
                    pt: format!("o evento é {found}: ele não tem o campo remaining = {left}."),
                )))
            }
            Some(_) => Ok(()),
            None => Err(CheckFailed(tr!(
                en: format!("its span's events are {:?}.", span.events),
                pt: format!("os eventos do span são {:?}.", span.events),
            ))),
        });
        checks.check(&what, verdict);
    }
    checks.finish();
}

pub const QUEUE: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 2,
    title: Text {
        en: "Your turn 2: a queue that keeps the trace",
        pt: "Sua vez 2: uma fila que mantém o trace",
    },
    section: Text {
        en: "Across `tokio` tasks",
        pt: "Através de tarefas do `tokio`",
    },
    api: Text {
        en: "`tracing::Span::current()` is the span the order runs in; a `tracing::Span` can be \
             kept in the job and moved across the queue; \
             `tracing::info_span!(parent: &job.span, \"send_email\", ..)` makes a span its child.",
        pt: "`tracing::Span::current()` é o span em que o pedido roda; um `tracing::Span` pode \
             ser guardado no job e levado pela fila; \
             `tracing::info_span!(parent: &job.span, \"send_email\", ..)` cria um span filho dele.",
    },
    change: Text {
        en: "In take_order, fill the job's span with the current span before sending it. In the \
             worker, make email_span with the job's span as its explicit parent, keeping its name \
             and its order field.",
        pt: "Em take_order, preencha o span do job com o span atual antes de enviá-lo. No \
             worker, crie email_span com o span do job como pai explícito, mantendo o nome e o \
             campo order.",
    },
};

/// Your turn 2: orders taken through the student's queue, as many as the check picks, each have
/// their `send_email` as a child of their `take_order`.
pub fn queue_keeps_the_trace(memory: &InMemorySpanExporter, run_orders: impl Fn(u64)) {
    let orders = fastrand::u64(2..=4);
    let before = memory
        .get_finished_spans()
        .map(|spans| spans.len())
        .unwrap_or(0);
    let mut checks = Checklist::exercise(&QUEUE);
    if let Err(panicked) = calling("run_orders", || run_orders(orders)) {
        checks.check(
            tr!(en: "run_orders runs", pt: "run_orders roda"),
            Err::<(), _>(panicked),
        );
        checks.finish();
        return;
    }
    let data = memory.get_finished_spans().unwrap_or_default();
    let spans = TraceSpan::all_from_sdk(data.get(before..).unwrap_or_default(), SERVICE);
    let order_of = |span: &TraceSpan| {
        span.attributes
            .iter()
            .find(|(key, _)| key == "order")
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    for order in 1..=orders {
        let order = order.to_string();
        let what = tr!(
            en: format!("order {order}'s send_email is the child of its take_order"),
            pt: format!("o send_email do pedido {order} é filho do seu take_order"),
        );
        let taken = spans
            .iter()
            .find(|span| span.name == "take_order" && order_of(span) == order);
        let email = spans
            .iter()
            .find(|span| span.name == "send_email" && order_of(span) == order);
        let verdict = match (taken, email) {
            (None, _) => Err(CheckFailed(tr!(
                en: format!("no take_order span carries order = {order}."),
                pt: format!("nenhum span take_order leva order = {order}."),
            ))),
            (_, None) => Err(CheckFailed(tr!(
                en: format!("no send_email span carries order = {order}."),
                pt: format!("nenhum span send_email leva order = {order}."),
            ))),
            (Some(taken), Some(email)) if email.parent_id.is_none() => {
                let _ = taken;
                Err(CheckFailed(tr!(
                    en: format!(
                        "send_email of order {order} is the root of a trace of its own: in the \
                         worker's thread it was made with no parent, and the order's trace \
                         never shows its e-mail."
                    ),
                    pt: format!(
                        "o send_email do pedido {order} é a raiz de um trace próprio: na thread \
                         do worker ele foi criado sem pai, e o trace do pedido nunca mostra o \
                         seu e-mail."
                    ),
                )))
            }
            (Some(taken), Some(email)) => check::parent(email, taken),
        };
        checks.check(&what, verdict);
    }
    checks.finish();
}

pub const RECEIVING: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-3",
    points: 2,
    title: Text {
        en: "Your turn 3: the trace across a call",
        pt: "Sua vez 3: o trace através de uma chamada",
    },
    section: Text {
        en: "Your turn 3: the trace across a call, with the global propagator",
        pt: "Sua vez 3: o trace através de uma chamada, com o propagator global",
    },
    api: Text {
        en: "`global::get_text_map_propagator(|propagator| \
             propagator.extract_with_context(&Context::new(), headers))` reads the headers alone; \
             `tracing::info_span!(parent: None, ..)` makes a span with no parent of tracing's \
             own; `span.set_parent(cx)` before `span.in_scope(..)`.",
        pt: "`global::get_text_map_propagator(|propagator| \
             propagator.extract_with_context(&Context::new(), headers))` lê só os cabeçalhos; \
             `tracing::info_span!(parent: None, ..)` cria um span sem pai do próprio tracing; \
             `span.set_parent(cx)` antes de `span.in_scope(..)`.",
    },
    change: Text {
        en: "Extract the context from the headers, starting from an empty context. Make the \
             POST /reserve span with no parent and otel.kind server. Give it the extracted \
             context as its parent, then enter it and record the event reserved.",
        pt: "Extraia o contexto dos cabeçalhos, partindo de um contexto vazio. Crie o span \
             POST /reserve sem pai e com otel.kind server. Dê a ele o contexto extraído como pai, \
             depois entre nele e registre o evento reserved.",
    },
};

/// Your turn 3: the student's `inventory_reserve`, given headers of a trace made up now (and
/// called inside a span of the check's), continues that trace under that caller.
pub fn continues_the_caller(
    memory: &InMemorySpanExporter,
    inventory_reserve: impl Fn(&HashMap<String, String>),
) {
    let trace_id = format!("{:032x}", fastrand::u128(1..));
    let span_id = format!("{:016x}", fastrand::u64(1..));
    let headers = HashMap::from([(
        "traceparent".to_owned(),
        format!("00-{trace_id}-{span_id}-01"),
    )]);
    let mut checks = Checklist::exercise(&RECEIVING);
    if let Err(panicked) = calling("inventory_reserve", || inventory_reserve(&headers)) {
        checks.check(
            tr!(en: "inventory_reserve runs", pt: "inventory_reserve roda"),
            Err::<(), _>(panicked),
        );
        checks.finish();
        return;
    }
    let spans = finished(memory, SERVICE);
    let reserve = spans
        .iter()
        .filter(|span| span.name == "POST /reserve")
        .max_by_key(|span| span.start_ns);
    let check_span = spans
        .iter()
        .filter(|span| span.name == "lab_check")
        .max_by_key(|span| span.start_ns);
    let verdict = match reserve {
        None => Err(CheckFailed(
            tr!(
                en: "no span POST /reserve was made.",
                pt: "nenhum span POST /reserve foi criado.",
            )
            .to_owned(),
        )),
        Some(reserve) if reserve.trace_id == trace_id => check::that(
            reserve.parent_id.as_deref() == Some(span_id.as_str()),
            tr!(
                en: format!(
                    "POST /reserve is in the caller's trace, but its parent is {:?}, not the \
                     caller's span {span_id}.",
                    reserve.parent_id
                ),
                pt: format!(
                    "POST /reserve está no trace de quem chamou, mas o pai dele é {:?}, não o \
                     span {span_id} de quem chamou.",
                    reserve.parent_id
                ),
            ),
        ),
        Some(reserve)
            if check_span
                .is_some_and(|outer| reserve.parent_id.as_ref() == Some(&outer.span_id)) =>
        {
            Err(CheckFailed(tr!(
                en: format!(
                    "POST /reserve is the child of lab_check, the span that was current in this \
                     program, not of the caller in the headers ({span_id}): a service in another \
                     process has no such span."
                ),
                pt: format!(
                    "POST /reserve é filho de lab_check, o span atual neste programa, não de quem \
                     chamou pelos cabeçalhos ({span_id}): um serviço em outro processo não tem \
                     esse span."
                ),
            )))
        }
        Some(reserve) => Err(CheckFailed(tr!(
            en: format!(
                "POST /reserve is in trace {}, not in the trace the headers carry, {trace_id}: \
                 the caller's trace was not continued.",
                reserve.trace_id
            ),
            pt: format!(
                "POST /reserve está no trace {}, não no trace que os cabeçalhos levam, \
                 {trace_id}: o trace de quem chamou não foi continuado.",
                reserve.trace_id
            ),
        ))),
    };
    checks.check(
        tr!(
            en: "POST /reserve continues the trace the headers carry, under the caller's span",
            pt: "POST /reserve continua o trace que os cabeçalhos levam, debaixo do span de \
                 quem chamou",
        ),
        verdict,
    );
    checks.finish();
}

/// The lesson's own check: `tracing`'s spans of the given cells (the tracer `shop`), the task
/// that lost its span, and log records that carry their span's trace id.
pub fn check_lesson(memory: &InMemorySpanExporter, logs: &InMemoryLogExporter) {
    // The spans tracing made (the tracer "shop"), not the API's copies of test_span_01 and 02.
    let spans: Vec<TraceSpan> = finished(memory, SERVICE)
        .into_iter()
        .filter(|span| span.scope == "shop")
        .collect();
    let logs = logs.get_emitted_logs().unwrap_or_default();
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 07: the tracing crate",
            pt: "Exercício 07: o crate tracing",
        ),
        1,
    );
    if let Some(outer) = checks.check(
        tr!(
            en: "test_span_01 from #[instrument]",
            pt: "test_span_01 de #[instrument]",
        ),
        check::find(&spans, "test_span_01"),
    ) {
        checks.check(
            tr!(en: "test_span_02 inside it", pt: "test_span_02 dentro dele"),
            check::child(&spans, outer, "test_span_02").map(|_| ()),
        );
    }
    if let Some(orphan) = checks.check(
        tr!(
            en: "the first handle_order ran",
            pt: "o primeiro handle_order rodou",
        ),
        check::find(&spans, "handle_order"),
    ) {
        checks.check(
            tr!(
                en: "its e-mail went to a trace of its own",
                pt: "o e-mail dele foi para um trace próprio",
            ),
            check::that(
                spans
                    .iter()
                    .filter(|s| s.name == "send_email")
                    .any(|s| s.parent_id.is_none() && s.trace_id != orphan.trace_id),
                tr!(
                    en: "no send_email span without a parent",
                    pt: "nenhum span send_email sem pai",
                ),
            ),
        );
    }
    checks.check(
        tr!(
            en: "log records carry the trace id of their span",
            pt: "os registros de log levam o trace id do seu span",
        ),
        check::that(
            logs.iter().any(|log| {
                log.record.trace_context().is_some_and(|context| {
                    spans
                        .iter()
                        .any(|span| span.trace_id == context.trace_id.to_string())
                })
            }),
            tr!(
                en: "no log record with the trace id of a span",
                pt: "nenhum registro de log com o trace id de um span",
            ),
        ),
    );
    checks.finish();
}
