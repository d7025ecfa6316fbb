//! Notebook 05's first exercise: the warehouse whose orders fail at random, and the check of how
//! the student records each failure on its span (the exception event and the error status).

use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};

use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::model::TraceSpan;
use crate::tr;

use super::{LESSON, SERVICE};

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
