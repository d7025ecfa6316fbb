//! Notebook 05, what goes on a span: the warehouse whose orders fail at random and the check of
//! how the student records the failures, the messages a batch links to, the sampler asked for a
//! ratio chosen as the check runs, and the lesson's own check.

use std::collections::BTreeSet;

use opentelemetry::trace::{
    Span as _, SpanContext, SpanKind, TraceId, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{
    InMemorySpanExporter, Sampler, SdkTracer, SdkTracerProvider, SpanData,
};

use super::finished;
use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::model::TraceSpan;
use crate::tr;

const LESSON: &str = "05-what-goes-on-a-span";
const SERVICE: &str = "checkout";

/// An order's item is not in stock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfStock {
    pub item: String,
}

impl std::fmt::Display for OutOfStock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is out of stock", self.item)
    }
}

impl std::error::Error for OutOfStock {}

/// The items an order can be for: the last digit of the order's id picks one.
const ITEMS: [&str; 6] = [
    "desk lamp",
    "bookshelf",
    "office chair",
    "monitor arm",
    "keyboard",
    "headset",
];

/// A warehouse whose stock is drawn when it is made: two of its six items are out of stock.
#[derive(Debug, Clone)]
pub struct Warehouse {
    out_of_stock: Vec<&'static str>,
}

impl Warehouse {
    /// A warehouse with two items out of stock, drawn now.
    pub fn stocked() -> Warehouse {
        let mut items = ITEMS.to_vec();
        fastrand::shuffle(&mut items);
        items.truncate(2);
        Warehouse {
            out_of_stock: items,
        }
    }

    /// The item the order `order` is for.
    fn item_for(order: &str) -> &'static str {
        let digit = order
            .chars()
            .rev()
            .find_map(|c| c.to_digit(10))
            .unwrap_or(0);
        ITEMS[digit as usize % ITEMS.len()]
    }

    /// Ships `order`, or fails with [`OutOfStock`] when its item is out of stock.
    pub fn ship(&self, order: &str) -> Result<String, OutOfStock> {
        let item = Warehouse::item_for(order);
        if self.out_of_stock.contains(&item) {
            Err(OutOfStock {
                item: item.to_owned(),
            })
        } else {
            Ok(format!("parcel for {order} ({item}) on its way"))
        }
    }
}

pub const ERRORS: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 2,
    title: Text {
        en: "Your turn 1: an error, recorded right",
        pt: "Sua vez 1: um erro, registrado direito",
    },
    section: Text {
        en: "Errors and the span status",
        pt: "Erros e o status do span",
    },
    api: Text {
        en: "`if let Err(error) = &result` looks at the failure; on the span, `record_error(..)` \
             adds the exception event, `set_attribute` with `semconv::ERROR_TYPE` names the \
             kind, and `set_status(Status::error(..))` takes the error's message \
             (`error.to_string()`).",
        pt: "`if let Err(error) = &result` olha a falha; no span, `record_error(..)` acrescenta \
             o evento de exceção, `set_attribute` com `semconv::ERROR_TYPE` nomeia o tipo, e \
             `set_status(Status::error(..))` recebe a mensagem do erro (`error.to_string()`).",
    },
    change: Text {
        en: "After ship returns, when the result is an error, do three things on the span, as \
             charge_card does: record the error, set error.type to OutOfStock, and set the status \
             to Error with the error's message. When the result is Ok, do nothing.",
        pt: "Depois que ship retorna, quando o resultado é um erro, faça três coisas no span, \
             como charge_card faz: registre o erro, defina error.type como OutOfStock e defina o \
             status como Error com a mensagem do erro. Quando o resultado é Ok, não faça nada.",
    },
};

/// The latest `ship_order` span whose `order.id` is `order`.
fn ship_span<'a>(spans: &'a [SpanData], order: &str) -> Option<&'a SpanData> {
    spans
        .iter()
        .filter(|span| {
            span.name == "ship_order"
                && span
                    .attributes
                    .iter()
                    .any(|kv| kv.key.as_str() == "order.id" && kv.value.as_str() == order)
        })
        .max_by_key(|span| span.start_time)
}

/// Your turn 1: orders shipped through the student's function by a warehouse stocked now; the
/// spans of those that failed carry the error the three ways, those of the others none.
pub fn errors_recorded(memory: &InMemorySpanExporter, ship_order: impl Fn(&Warehouse, &str)) {
    let warehouse = Warehouse::stocked();
    let prefix = format!("B-{:03}", fastrand::u16(100..1000));
    let orders: Vec<String> = (0..ITEMS.len()).map(|n| format!("{prefix}{n}")).collect();
    let mut checks = Checklist::exercise(&ERRORS);
    for order in &orders {
        if let Err(panicked) = calling("ship_order", || ship_order(&warehouse, order)) {
            checks.check(
                tr!(en: "ship_order runs", pt: "ship_order roda"),
                Err::<(), _>(panicked),
            );
            checks.finish();
            return;
        }
    }
    let data = memory.get_finished_spans().unwrap_or_default();
    let outcomes: Vec<(String, Result<String, OutOfStock>, Option<TraceSpan>)> = orders
        .iter()
        .map(|order| {
            let span = ship_span(&data, order).map(|span| TraceSpan::from_sdk(span, SERVICE));
            (order.clone(), warehouse.ship(order), span)
        })
        .collect();
    let failed: Vec<_> = outcomes
        .iter()
        .filter(|(_, result, _)| result.is_err())
        .collect();
    let each_failed = |property: fn(&TraceSpan, &OutOfStock) -> Result<(), CheckFailed>| {
        for (order, result, span) in &failed {
            let Err(error) = result else { continue };
            let outcome = match span {
                None => Err(no_span(order)),
                Some(span) => property(span, error),
            };
            outcome.map_err(|CheckFailed(why)| {
                CheckFailed(tr!(
                    en: format!("{order} failed ({error}): {why}"),
                    pt: format!("{order} falhou ({error}): {why}"),
                ))
            })?;
        }
        Ok(())
    };
    checks.check(
        tr!(
            en: "the span of each order that failed has the status Error",
            pt: "o span de cada pedido que falhou tem o status Error",
        ),
        each_failed(|span, _| match &span.error {
            Some(_) => Ok(()),
            None if has_exception(span) => Err(CheckFailed(
                tr!(
                    en: "its span has the exception event, but its status is not Error: a \
                         backend counts it, and draws it, as a success.",
                    pt: "o span tem o evento de exceção, mas o status não é Error: um backend o \
                         conta, e o desenha, como sucesso.",
                )
                .to_owned(),
            )),
            None => Err(CheckFailed(
                tr!(
                    en: "its span's status is not Error, and it has no exception event: it looks \
                         like an order that shipped.",
                    pt: "o status do span não é Error, e ele não tem evento de exceção: parece \
                         um pedido que foi enviado.",
                )
                .to_owned(),
            )),
        }),
    );
    checks.check(
        tr!(
            en: "that status carries the error's own message",
            pt: "esse status leva a própria mensagem do erro",
        ),
        each_failed(|span, error| match &span.error {
            Some(message) if *message == error.to_string() => Ok(()),
            Some(message) => Err(CheckFailed(tr!(
                en: format!(
                    "its status says {message:?}, while the error said {:?}: the message of the \
                     error itself tells which item was missing.",
                    error.to_string()
                ),
                pt: format!(
                    "o status diz {message:?}, enquanto o erro disse {:?}: a mensagem do próprio \
                     erro diz qual item faltou.",
                    error.to_string()
                ),
            ))),
            None => Ok(()),
        }),
    );
    checks.check(
        tr!(
            en: "it has the exception event",
            pt: "ele tem o evento de exceção",
        ),
        each_failed(|span, _| {
            check::that(
                has_exception(span),
                tr!(
                    en: "its span has no exception event: the error itself is not recorded.",
                    pt: "o span não tem evento de exceção: o próprio erro não foi registrado.",
                ),
            )
        }),
    );
    checks.check(
        tr!(
            en: "its error.type is OutOfStock",
            pt: "o error.type dele é OutOfStock",
        ),
        each_failed(|span, _| check::attribute(span, "error.type", "OutOfStock")),
    );
    checks.check(
        tr!(
            en: "the orders that shipped do not look failed",
            pt: "os pedidos que foram enviados não parecem ter falhado",
        ),
        outcomes
            .iter()
            .filter(|(_, result, _)| result.is_ok())
            .try_for_each(|(order, _, span)| match span {
                None => Err(no_span(order)),
                Some(span) if span.error.is_some() || has_exception(span) => Err(CheckFailed(tr!(
                    en: format!(
                        "{order} shipped, yet its span records an error: only a failed \
                         order is one."
                    ),
                    pt: format!(
                        "{order} foi enviado, mas o span dele registra um erro: só um pedido \
                         que falhou é um erro."
                    ),
                ))),
                Some(_) => Ok(()),
            }),
    );
    checks.finish();
}

fn has_exception(span: &TraceSpan) -> bool {
    span.events
        .iter()
        .any(|event| event.starts_with("exception"))
}

fn no_span(order: &str) -> CheckFailed {
    CheckFailed(tr!(
        en: format!("no ship_order span carries order.id = {order}."),
        pt: format!("nenhum span ship_order leva order.id = {order}."),
    ))
}

/// A message taken from a queue: its id, and the context of the span that published it.
#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub context: SpanContext,
}

/// Publishes three to five messages now, each in a PRODUCER span `publish order.created` of a
/// trace of its own, and returns them as a consumer receives them.
pub fn publish_messages(tracer: &SdkTracer) -> Vec<Message> {
    (0..fastrand::usize(3..=5))
        .map(|_| {
            let id = format!("msg-{:06x}", fastrand::u32(..0x100_0000));
            let mut span = tracer
                .span_builder("publish order.created")
                .with_kind(SpanKind::Producer)
                .with_attributes([KeyValue::new("messaging.message.id", id.clone())])
                .start_with_context(tracer, &Context::new());
            let context = span.span_context().clone();
            span.end();
            Message { id, context }
        })
        .collect()
}

pub const BATCH: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 2,
    title: Text {
        en: "Your turn 2: a batch with many origins",
        pt: "Sua vez 2: um lote com muitas origens",
    },
    section: Text {
        en: "Links",
        pt: "Links",
    },
    api: Text {
        en:
            "`Link::with_context(message.context.clone())` makes a link; `tracer.span_builder(..)` \
             takes `with_kind(SpanKind::Consumer)` and `with_links(links)` before `start(tracer)`; \
             `Context::current_with_span(..)` and `attach()` make it the active span for \
             `tracer.in_span`.",
        pt: "`Link::with_context(message.context.clone())` cria um link; \
             `tracer.span_builder(..)` recebe `with_kind(SpanKind::Consumer)` e \
             `with_links(links)` antes de `start(tracer)`; `Context::current_with_span(..)` e \
             `attach()` o tornam o span ativo para `tracer.in_span`.",
    },
    change: Text {
        en: "Make one link per message from its context. Start process batch as a consumer span \
             with those links, in no message's trace. Make it active, and for each message open \
             process message with the message's id as messaging.message.id. Then end process \
             batch.",
        pt: "Crie um link por mensagem a partir do contexto dela. Inicie process batch como um \
             span consumer com esses links, fora do trace de qualquer mensagem. Torne-o ativo e, \
             para cada mensagem, abra process message com o id da mensagem em \
             messaging.message.id. Depois termine process batch.",
    },
};

/// Your turn 2: messages published now, processed by the student's function: one CONSUMER span
/// `process batch`, in a trace of its own, linked to every message's span, with a
/// `process message` child per message carrying its id.
pub fn batch_linked(
    memory: &InMemorySpanExporter,
    tracer: &SdkTracer,
    process_batch: impl Fn(&[Message]),
) {
    let messages = publish_messages(tracer);
    let mut checks = Checklist::exercise(&BATCH);
    if let Err(panicked) = calling("process_batch", || process_batch(&messages)) {
        checks.check(
            tr!(en: "process_batch runs", pt: "process_batch roda"),
            Err::<(), _>(panicked),
        );
        checks.finish();
        return;
    }
    let data = memory.get_finished_spans().unwrap_or_default();
    let batch = data
        .iter()
        .filter(|span| span.name == "process batch")
        .max_by_key(|span| span.start_time)
        .ok_or_else(|| {
            CheckFailed(
                tr!(
                    en: "no span process batch was exported: it never ended, or never started.",
                    pt: "nenhum span process batch foi exportado: ele nunca terminou, ou nunca \
                         começou.",
                )
                .to_owned(),
            )
        });
    let Some(batch) = checks.check(
        tr!(en: "process batch was made", pt: "process batch foi criado"),
        batch,
    ) else {
        checks.finish();
        return;
    };
    checks.check(
        tr!(
            en: "it is a CONSUMER span",
            pt: "ele é um span CONSUMER",
        ),
        check::that(
            batch.span_kind == SpanKind::Consumer,
            tr!(
                en: format!(
                    "its kind is {:?}: a backend cannot tell it handles messages from a queue.",
                    batch.span_kind
                ),
                pt: format!(
                    "o tipo dele é {:?}: um backend não consegue saber que ele trata mensagens de \
                     uma fila.",
                    batch.span_kind
                ),
            ),
        ),
    );
    let message_traces: BTreeSet<String> = messages
        .iter()
        .map(|message| message.context.trace_id().to_string())
        .collect();
    let own_trace = batch.span_context.trace_id();
    checks.check(
        tr!(
            en: "it starts a trace of its own",
            pt: "ele começa um trace próprio",
        ),
        check::that(
            !message_traces.contains(&own_trace.to_string()),
            tr!(
                en: format!(
                    "it is in trace {own_trace}, a message's trace, as the child of its \
                     publisher: the batch became part of one origin's trace."
                ),
                pt: format!(
                    "ele está no trace {own_trace}, o trace de uma mensagem, como filho de quem \
                     a publicou: o lote virou parte do trace de uma das origens."
                ),
            ),
        ),
    );
    let linked: BTreeSet<(String, String)> = batch
        .links
        .links
        .iter()
        .map(|link| {
            (
                link.span_context.trace_id().to_string(),
                link.span_context.span_id().to_string(),
            )
        })
        .collect();
    let missing: Vec<&str> = messages
        .iter()
        .filter(|message| {
            !linked.contains(&(
                message.context.trace_id().to_string(),
                message.context.span_id().to_string(),
            ))
        })
        .map(|message| message.id.as_str())
        .collect();
    checks.check(
        tr!(
            en: "it links to the span that published each message",
            pt: "ele tem um link para o span que publicou cada mensagem",
        ),
        check::that(
            missing.is_empty(),
            tr!(
                en: format!(
                    "it has {} link(s) for {} messages; no link leads to the publisher of {}.",
                    linked.len(),
                    messages.len(),
                    missing.join(", ")
                ),
                pt: format!(
                    "ele tem {} link(s) para {} mensagens; nenhum link leva a quem publicou {}.",
                    linked.len(),
                    messages.len(),
                    missing.join(", ")
                ),
            ),
        ),
    );
    let batch_id = batch.span_context.span_id();
    let ids: BTreeSet<String> = data
        .iter()
        .filter(|span| span.name == "process message" && span.parent_span_id == batch_id)
        .filter_map(|span| {
            span.attributes
                .iter()
                .find(|kv| kv.key.as_str() == "messaging.message.id")
                .map(|kv| kv.value.to_string())
        })
        .collect();
    let expected: BTreeSet<String> = messages.iter().map(|message| message.id.clone()).collect();
    checks.check(
        tr!(
            en: "inside it, a process message span per message, with its messaging.message.id",
            pt: "dentro dele, um span process message por mensagem, com o seu \
                 messaging.message.id",
        ),
        check::equal(
            tr!(
                en: "the ids of the process message spans inside process batch",
                pt: "os ids dos spans process message dentro de process batch",
            ),
            ids,
            expected,
        ),
    );
    checks.finish();
}

pub const SAMPLER: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-3",
    points: 2,
    title: Text {
        en: "Your turn 3: a sampler for any ratio",
        pt: "Sua vez 3: um sampler para qualquer taxa",
    },
    section: Text {
        en: "Sampling",
        pt: "Amostragem",
    },
    api: Text {
        en: "`Sampler::TraceIdRatioBased(ratio)` keeps a share of traces by their id; \
             `Sampler::ParentBased(Box::new(..))` wraps a sampler so that it only decides for \
             root spans.",
        pt: "`Sampler::TraceIdRatioBased(ratio)` guarda uma parte dos traces pelo id deles; \
             `Sampler::ParentBased(Box::new(..))` envolve um sampler para que ele só decida pelos \
             spans raiz.",
    },
    change: Text {
        en: "Set sampler to a parent-based sampler that wraps a ratio sampler built from the \
             ratio argument (not from a number of your own).",
        pt: "Ponha em sampler um sampler baseado no pai que envolve um sampler de taxa montado \
             com o argumento ratio (não com um número seu).",
    },
};

/// Your turn 3: `sampler_for(ratio)`, for a ratio chosen now, keeps about that share of 4,000
/// roots, and follows a caller's decision.
pub fn sampler_for(sampler_for: impl Fn(f64) -> Sampler) {
    const ROOTS: usize = 4_000;
    let ratios = [0.05, 0.15, 0.20, 0.30, 0.35, 0.40, 0.45, 0.50];
    let ratio = ratios[fastrand::usize(..ratios.len())];
    let mut checks = Checklist::exercise(&SAMPLER);
    let Some(sampler) = checks.check(
        &tr!(
            en: format!("sampler_for({ratio}) gives a sampler"),
            pt: format!("sampler_for({ratio}) dá um sampler"),
        ),
        calling("sampler_for", || sampler_for(ratio)),
    ) else {
        checks.finish();
        return;
    };
    let memory = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_sampler(sampler.clone())
        .with_simple_exporter(memory.clone())
        .build();
    let tracer = provider.tracer("lab-check");
    for _ in 0..ROOTS {
        tracer.in_span("request", |_cx| {});
    }
    let share = memory.get_finished_spans().unwrap_or_default().len() as f64 / ROOTS as f64;
    checks.check(
        &tr!(
            en: format!("it keeps about {:.0}% of new traces", ratio * 100.0),
            pt: format!("ele guarda cerca de {:.0}% dos traces novos", ratio * 100.0),
        ),
        check::that(
            (share - ratio).abs() <= 0.03,
            tr!(
                en: format!(
                    "it kept {:.1}% of {ROOTS} new traces, for a ratio of {:.0}%.",
                    share * 100.0,
                    ratio * 100.0
                ),
                pt: format!(
                    "ele guardou {:.1}% de {ROOTS} traces novos, para uma taxa de {:.0}%.",
                    share * 100.0,
                    ratio * 100.0
                ),
            ),
        ),
    );
    checks.check(
        tr!(
            en: "it follows the caller's decision (parent-based)",
            pt: "ele segue a decisão de quem chama (baseado no pai)",
        ),
        check::follows_parent(&sampler),
    );
    let _ = provider.shutdown();
    checks.finish();
}

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
