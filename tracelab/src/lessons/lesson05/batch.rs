//! Notebook 05's second exercise: the messages a batch takes from a queue, and the check that the
//! batch's span links to the span that published each one.

use std::collections::BTreeSet;

use opentelemetry::trace::{Span as _, SpanContext, SpanKind, Tracer as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer};

use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::tr;

use super::LESSON;

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
