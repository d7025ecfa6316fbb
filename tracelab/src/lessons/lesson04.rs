//! Notebook 04, one trace across services: the check of the student's propagation (the request
//! run again with and without it), the baggage check with a value made up as it runs, and the
//! lesson's own check.

use std::collections::HashMap;

use opentelemetry::baggage::BaggageExt as _;
use opentelemetry::propagation::{TextMapCompositePropagator, TextMapPropagator as _};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::InMemorySpanExporter;

use super::finished;
use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::model::TraceSpan;
use crate::tr;

const LESSON: &str = "04-a-trace-across-services";

pub const PROPAGATION: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 3,
    title: Text {
        en: "Your turn 1: propagation, both ways",
        pt: "Sua vez 1: propagação, nos dois sentidos",
    },
    section: Text {
        en: "The propagator",
        pt: "O propagator",
    },
    api: Text {
        en: "`TraceContextPropagator::new()` has `extract(&extractor)`, which returns the \
             caller's context (here the extractor is `RequestHeaders(request)`), and \
             `inject_context(&cx, &mut injector)`, which writes the context `cx` into \
             `headers`.",
        pt: "`TraceContextPropagator::new()` tem `extract(&extractor)`, que devolve o contexto \
             de quem chama (aqui o extractor é `RequestHeaders(request)`), e \
             `inject_context(&cx, &mut injector)`, que escreve o contexto `cx` em `headers`.",
    },
    change: Text {
        en: "In server_span, set parent to what the propagator extracts from the request's \
             headers. In call, when propagate is true, have the propagator inject cx (the \
             context that holds the CLIENT span, not the current one) into headers.",
        pt: "Em server_span, ponha em parent o que o propagator extrai dos cabeçalhos da \
             requisição. Em call, quando propagate for verdadeiro, faça o propagator injetar cx \
             (o contexto que contém o span CLIENT, não o atual) em headers.",
    },
};

/// The span `name` of `service` among `spans`.
fn span_of<'a>(
    spans: &'a [TraceSpan],
    service: &str,
    name: &str,
) -> Result<&'a TraceSpan, CheckFailed> {
    spans
        .iter()
        .find(|span| span.service == service && span.name == name)
        .ok_or_else(|| {
            CheckFailed(tr!(
                en: format!("{service} made no span {name:?}: did the request reach it?"),
                pt: format!("{service} não criou nenhum span {name:?}: a requisição chegou a ele?"),
            ))
        })
}

/// `callee` (a SERVER span) hangs under `caller`'s CLIENT span, in its trace.
fn called_from(spans: &[TraceSpan], callee: &TraceSpan, caller: &str) -> Result<(), CheckFailed> {
    let label = |span: &TraceSpan| format!("{:?} ({})", span.name, span.service);
    let Some(parent_id) = callee.parent_id.as_deref() else {
        return Err(CheckFailed(tr!(
            en: format!(
                "{} is the root of a trace of its own: its parent is missing, so the request \
                 reached {} without a trace context it could continue.",
                label(callee),
                callee.service
            ),
            pt: format!(
                "{} é a raiz de um trace próprio: falta o pai, então a requisição chegou a {} \
                 sem um contexto de trace que ele pudesse continuar.",
                label(callee),
                callee.service
            ),
        )));
    };
    match spans.iter().find(|span| span.span_id == parent_id) {
        Some(parent) if parent.service == caller && parent.kind == "client" => Ok(()),
        Some(parent) if parent.service == caller => Err(CheckFailed(tr!(
            en: format!(
                "{}'s parent is {}, a {} span, not the CLIENT span of the call: the context sent \
                 with the request is the one from before the call's span.",
                label(callee),
                label(parent),
                parent.kind.as_str().to_uppercase()
            ),
            pt: format!(
                "o pai de {} é {}, um span {}, não o span CLIENT da chamada: o contexto enviado \
                 com a requisição é o de antes do span da chamada.",
                label(callee),
                label(parent),
                parent.kind.as_str().to_uppercase()
            ),
        ))),
        Some(parent) => Err(CheckFailed(tr!(
            en: format!("{}'s parent is {}.", label(callee), label(parent)),
            pt: format!("o pai de {} é {}.", label(callee), label(parent)),
        ))),
        None => Err(CheckFailed(tr!(
            en: format!(
                "{}'s parent span id is {parent_id}, which is no span of the three services: \
                 the request carried a context that is not the caller's.",
                label(callee)
            ),
            pt: format!(
                "o span id do pai de {} é {parent_id}, que não é de nenhum span dos três \
                 serviços: a requisição levou um contexto que não é o de quem chamou.",
                label(callee)
            ),
        ))),
    }
}

/// Your turn 1: with propagation, the backend's and the inventory's SERVER spans hang under
/// their caller's CLIENT span, in the frontend's trace; without it, the backend starts a trace
/// of its own. `run` runs the request (`true`: with propagation) and returns every service's
/// spans.
pub fn propagation(run: impl Fn(bool) -> Vec<TraceSpan>) {
    let mut checks = Checklist::exercise(&PROPAGATION);
    let Some(with) = checks.check(
        tr!(
            en: "the request runs through the three services",
            pt: "a requisição passa pelos três serviços",
        ),
        calling("run_chain(true)", || run(true)),
    ) else {
        checks.finish();
        return;
    };
    let chain = span_of(&with, "frontend", "GET /chain");
    let work = span_of(&with, "backend", "GET /work");
    let stock = span_of(&with, "inventory", "GET /stock");
    checks.check(
        tr!(
            en: "the backend's GET /work hangs under the frontend's CLIENT span, in its trace",
            pt: "o GET /work do backend fica debaixo do span CLIENT do frontend, no trace dele",
        ),
        chain.and_then(|chain| {
            let work = work.clone()?;
            called_from(&with, work, "frontend")?;
            check::same_trace(work, chain)
        }),
    );
    checks.check(
        tr!(
            en: "the inventory's GET /stock hangs under the backend's CLIENT span, in the same trace",
            pt: "o GET /stock do inventory fica debaixo do span CLIENT do backend, no mesmo trace",
        ),
        stock.and_then(|stock| called_from(&with, stock, "backend")),
    );
    let without = calling("run_chain(false)", || run(false));
    checks.check(
        tr!(
            en: "with propagate false, the backend starts a trace of its own",
            pt: "com propagate falso, o backend começa um trace próprio",
        ),
        without.and_then(|without| {
            let chain = span_of(&without, "frontend", "GET /chain")?;
            let work = span_of(&without, "backend", "GET /work")?;
            check::that(
                work.trace_id != chain.trace_id,
                tr!(
                    en: "with propagate false, GET /work still continued the frontend's trace: \
                         the context went with the request anyway.",
                    pt: "com propagate falso, GET /work ainda continuou o trace do frontend: o \
                         contexto foi com a requisição mesmo assim.",
                ),
            )
        }),
    );
    checks.finish();
}

pub const BAGGAGE: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 2,
    title: Text {
        en: "Your turn 2: baggage onto a span",
        pt: "Sua vez 2: bagagem em um span",
    },
    section: Text {
        en: "Baggage",
        pt: "Baggage",
    },
    api: Text {
        en: "`propagator.extract(&Received(headers))` gives the context, baggage included; \
             `tracer.start_with_context(name, &context)` starts a span in it; \
             `context.baggage().get(\"lab.student\")` gives the value; `set_attribute` and \
             `end()` on the span.",
        pt: "`propagator.extract(&Received(headers))` dá o contexto, com a bagagem; \
             `tracer.start_with_context(name, &context)` inicia um span nele; \
             `context.baggage().get(\"lab.student\")` dá o valor; `set_attribute` e `end()` no \
             span.",
    },
    change: Text {
        en: "Extract a context from the headers with the propagator; start handle_order in that \
             context; if its baggage has lab.student, set that value (as a String) on the span \
             under the same key; then end the span.",
        pt: "Extraia um contexto dos cabeçalhos com o propagator; inicie handle_order nesse \
             contexto; se a bagagem dele tiver lab.student, defina esse valor (como String) no \
             span com a mesma chave; depois termine o span.",
    },
};

/// The headers a caller in the trace `trace_id`, span `span_id`, sends with the baggage
/// `lab.student = student`: both written by the SDK's own propagators.
fn headers_from(trace_id: TraceId, span_id: SpanId, student: &str) -> Vec<(String, String)> {
    let caller = SpanContext::new(
        trace_id,
        span_id,
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    );
    let cx = Context::new()
        .with_remote_span_context(caller)
        .with_baggage([
            KeyValue::new("lab.student", student.to_owned()),
            KeyValue::new("lab.exercise", "04"),
        ]);
    let propagator = TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]);
    let mut headers = HashMap::new();
    propagator.inject_context(&cx, &mut headers);
    let mut headers: Vec<(String, String)> = headers.into_iter().collect();
    headers.sort();
    headers
}

/// Your turn 2: `handle_order`, given headers with a trace context and a student name made up
/// now, records `handle_order` in the caller's trace, under the caller's span, with the name.
pub fn baggage_onto_a_span(
    spans: &InMemorySpanExporter,
    handle_order: impl Fn(&[(String, String)]),
) {
    let mut checks = Checklist::exercise(&BAGGAGE);
    let names = ["bia", "caio", "duda", "enzo", "flor", "guto"];
    let student = format!(
        "{}-{:03x}",
        names[fastrand::usize(..names.len())],
        fastrand::u16(..4096)
    );
    let trace_id = TraceId::from(fastrand::u128(1..));
    let span_id = SpanId::from(fastrand::u64(1..));
    let headers = headers_from(trace_id, span_id, &student);
    if let Err(panicked) = calling("handle_order", || handle_order(&headers)) {
        checks.check(
            tr!(en: "handle_order runs", pt: "handle_order roda"),
            Err::<(), _>(panicked),
        );
        checks.finish();
        return;
    }
    let all = finished(spans, "backend");
    let made = all
        .iter()
        .filter(|span| span.name == "handle_order")
        .max_by_key(|span| span.start_ns);
    let (trace_id, span_id) = (trace_id.to_string(), span_id.to_string());
    let in_trace = match made {
        None => Err(CheckFailed(
            tr!(
                en: "no span handle_order was exported: it never ended, or never started.",
                pt: "nenhum span handle_order foi exportado: ele nunca terminou, ou nunca começou.",
            )
            .to_owned(),
        )),
        Some(span) if span.trace_id != trace_id => Err(CheckFailed(tr!(
            en: format!(
                "handle_order is in trace {}, not in the caller's trace {trace_id}: it was \
                 started without the context the headers carry.",
                span.trace_id
            ),
            pt: format!(
                "handle_order está no trace {}, não no trace de quem chamou, {trace_id}: ele foi \
                 iniciado sem o contexto que os cabeçalhos levam.",
                span.trace_id
            ),
        ))),
        Some(span) => Ok(span),
    };
    if let Some(span) = checks.check(
        tr!(
            en: "handle_order continues the caller's trace",
            pt: "handle_order continua o trace de quem chamou",
        ),
        in_trace,
    ) {
        checks.check(
            tr!(
                en: "its parent is the caller's span",
                pt: "o pai dele é o span de quem chamou",
            ),
            check::that(
                span.parent_id.as_deref() == Some(span_id.as_str()),
                tr!(
                    en: format!(
                        "its parent is {:?}, the caller's span is {span_id}.",
                        span.parent_id
                    ),
                    pt: format!(
                        "o pai dele é {:?}, o span de quem chamou é {span_id}.",
                        span.parent_id
                    ),
                ),
            ),
        );
        checks.check(
            &tr!(
                en: format!("it carries the baggage's lab.student, {student}"),
                pt: format!("ele leva o lab.student da bagagem, {student}"),
            ),
            check::attribute(span, "lab.student", &student),
        );
    }
    checks.finish();
}

/// The lesson's own check: without propagation each service's spans form a trace of their own,
/// the three services served their routes, and the baggage went in a header of its own.
pub fn check_lesson(without_propagation: &[TraceSpan], outgoing: &[(String, String)]) {
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 04: a trace across services",
            pt: "Exercício 04: um trace através de serviços",
        ),
        1,
    );
    checks.check(
        tr!(
            en: "the three services served their routes",
            pt: "os três serviços atenderam às suas rotas",
        ),
        span_of(without_propagation, "frontend", "GET /chain")
            .and(span_of(without_propagation, "backend", "GET /work"))
            .and(span_of(without_propagation, "inventory", "GET /stock"))
            .map(|_| ()),
    );
    checks.check(
        tr!(
            en: "the services call each other in CLIENT spans",
            pt: "os serviços chamam uns aos outros em spans CLIENT",
        ),
        check::that(
            without_propagation
                .iter()
                .filter(|span| span.kind == "client")
                .count()
                == 2,
            tr!(
                en: "the frontend and the backend should each have one CLIENT span",
                pt: "o frontend e o backend deveriam ter um span CLIENT cada",
            ),
        ),
    );
    checks.check(
        tr!(
            en: "without propagation, each service's spans form a trace of their own",
            pt: "sem propagação, os spans de cada serviço formam um trace próprio",
        ),
        check::trace_count(without_propagation, 3),
    );
    let sent_baggage = outgoing
        .iter()
        .any(|(name, value)| name == "baggage" && value.contains("lab.student=ada"));
    checks.check(
        tr!(
            en: "baggage travelled in its own header",
            pt: "a bagagem viajou em um cabeçalho próprio",
        ),
        check::that(
            sent_baggage,
            tr!(
                en: format!("the headers were {outgoing:?}"),
                pt: format!("os cabeçalhos foram {outgoing:?}"),
            ),
        ),
    );
    checks.finish();
}
