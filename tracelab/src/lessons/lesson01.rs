//! Notebook 01, nested spans printed to STDOUT: its exercises' checks, the build whose tree the
//! student reads from its ids, and the lesson's own check.

use opentelemetry::trace::Tracer as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer, SpanData};

use super::finished;
use crate::check::{self, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::model::TraceSpan;
use crate::tr;

const LESSON: &str = "01-nested-spans-to-stdout";
/// The SDK's placeholder: the lesson's provider names no service.
const SERVICE: &str = "unknown_service:evcxr_jupyter";

pub const THIRD_SPAN: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 2,
    title: Text {
        en: "Your turn 1: a third span, with an attribute",
        pt: "Sua vez 1: um terceiro span, com um atributo",
    },
    section: Text {
        en: "Attributes",
        pt: "Atributos",
    },
    api: Text {
        en:
            "`tracer.in_span(name, |cx| ...)` started inside another span's closure makes a child; \
             in its closure, `cx.span().set_attribute(..)` with a `KeyValue::new(key, value)` adds \
             the attribute.",
        pt: "`tracer.in_span(name, |cx| ...)` iniciado dentro do closure de outro span cria um \
             filho; no closure dele, `cx.span().set_attribute(..)` com um \
             `KeyValue::new(key, value)` acrescenta o atributo.",
    },
    change: Text {
        en: "Inside test_span_02's closure, start test_span_03 the same way test_span_02 is \
             started inside test_span_01, and inside test_span_03's own closure set the attribute \
             lab.level to the number 3 (a number, not the text \"3\").",
        pt: "Dentro do closure de test_span_02, inicie test_span_03 do mesmo jeito que \
             test_span_02 é iniciado dentro de test_span_01, e dentro do próprio closure de \
             test_span_03 defina o atributo lab.level com o número 3 (um número, não o texto \
             \"3\").",
    },
};

/// Your turn 1: `test_span_03` inside the latest `test_span_02`, with `lab.level = 3`.
pub fn third_span(memory: &InMemorySpanExporter) {
    let spans = finished(memory, SERVICE);
    let mut checks = Checklist::exercise(&THIRD_SPAN);
    if let Some(middle) = checks.check(
        tr!(en: "test_span_02 ran again", pt: "test_span_02 rodou de novo"),
        check::latest(&spans, "test_span_02"),
    ) {
        if let Some(third) = checks.check(
            tr!(
                en: "test_span_03 is nested in test_span_02",
                pt: "test_span_03 está aninhado em test_span_02",
            ),
            check::child(&spans, middle, "test_span_03"),
        ) {
            checks.check(
                tr!(
                    en: "test_span_03 has lab.level = 3, a number",
                    pt: "test_span_03 tem lab.level = 3, um número",
                ),
                number_attribute(memory, third, "lab.level", 3),
            );
        }
    }
    checks.finish();
}

/// `span` (found again in `memory` by its id) has the attribute `key` holding the number
/// `expected`, not the text of it.
fn number_attribute(
    memory: &InMemorySpanExporter,
    span: &TraceSpan,
    key: &str,
    expected: i64,
) -> Result<(), CheckFailed> {
    check::attribute(span, key, &expected.to_string())?;
    let data = memory.get_finished_spans().unwrap_or_default();
    let value = data
        .iter()
        .find(|data| data.span_context.span_id().to_string() == span.span_id)
        .and_then(|data| data.attributes.iter().find(|kv| kv.key.as_str() == key))
        .map(|kv| kv.value.clone());
    match value {
        Some(opentelemetry::Value::I64(_)) => Ok(()),
        _ => Err(CheckFailed(tr!(
            en: format!(
                "{:?} has {key} = \"{expected}\", a text: a number is written without quotes, \
                 and a backend can then sort and compare it.",
                span.name
            ),
            pt: format!(
                "{:?} tem {key} = \"{expected}\", um texto: um número se escreve sem aspas, e aí \
                 um backend consegue ordená-lo e compará-lo.",
                span.name
            ),
        ))),
    }
}

pub const SIBLINGS: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 2,
    title: Text {
        en: "Your turn 2: one after the other",
        pt: "Sua vez 2: um depois do outro",
    },
    section: Text {
        en: "Two nested spans",
        pt: "Dois spans aninhados",
    },
    api: Text {
        en: "Two `tracer.in_span(..)` calls, each with its own (empty) closure, both written \
             directly inside `checkout`'s closure.",
        pt: "Duas chamadas `tracer.in_span(..)`, cada uma com o seu próprio closure (vazio), \
             ambas escritas diretamente dentro do closure de `checkout`.",
    },
    change: Text {
        en: "Inside checkout's closure, start reserve_stock with an empty closure; after that \
             call has returned, start charge_card the same way. Neither goes inside the other's \
             closure.",
        pt: "Dentro do closure de checkout, inicie reserve_stock com um closure vazio; depois que \
             essa chamada retornar, inicie charge_card do mesmo jeito. Nenhum vai dentro do \
             closure do outro.",
    },
};

/// Your turn 2: `reserve_stock` then `charge_card`, both children of the latest `checkout`.
pub fn siblings(memory: &InMemorySpanExporter) {
    let spans = finished(memory, SERVICE);
    let mut checks = Checklist::exercise(&SIBLINGS);
    if let Some(checkout) = checks.check(
        tr!(en: "checkout was made", pt: "checkout foi criado"),
        check::latest(&spans, "checkout"),
    ) {
        let first = checks.check(
            tr!(
                en: "reserve_stock is a child of checkout",
                pt: "reserve_stock é filho de checkout",
            ),
            check::child(&spans, checkout, "reserve_stock"),
        );
        let second = checks.check(
            tr!(
                en: "charge_card is a child of checkout",
                pt: "charge_card é filho de checkout",
            ),
            check::child(&spans, checkout, "charge_card"),
        );
        if let (Some(first), Some(second)) = (first, second) {
            checks.check(
                tr!(
                    en: "charge_card started after reserve_stock ended",
                    pt: "charge_card começou depois que reserve_stock terminou",
                ),
                check::that(
                    second.start_ns >= first.end_ns,
                    tr!(
                        en: "charge_card started before reserve_stock ended: the two overlap.",
                        pt: "charge_card começou antes de reserve_stock terminar: os dois se \
                             sobrepõem.",
                    ),
                ),
            );
        }
    }
    checks.finish();
}

/// The steps of the build whose tree Your turn 3 reads.
const STEPS: [&str; 5] = ["fetch", "compile", "test", "package", "publish"];

/// Runs a `build` span whose five steps nest in one another at random (each step's parent is
/// `build` or a step started before it), so that the tree differs from run to run.
pub fn random_build(tracer: &SdkTracer) {
    // parents[i]: the index of step i's parent in [build, steps...], always an earlier one.
    let parents: Vec<usize> = (1..=STEPS.len()).map(|i| fastrand::usize(..i)).collect();
    run_node(tracer, 0, &parents);
}

fn run_node(tracer: &SdkTracer, node: usize, parents: &[usize]) {
    let name = if node == 0 { "build" } else { STEPS[node - 1] };
    tracer.in_span(name, |_cx| {
        for (index, parent) in parents.iter().enumerate() {
            if *parent == node {
                run_node(tracer, index + 1, parents);
            }
        }
    });
}

pub const READ_THE_IDS: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-3",
    points: 2,
    title: Text {
        en: "Your turn 3: read a trace from its ids",
        pt: "Sua vez 3: ler um trace pelos seus ids",
    },
    section: Text {
        en: "Reading the ids",
        pt: "Lendo os ids",
    },
    api: Text {
        en: "Each printed span has a `SpanId` and a `ParentSpanId`; in `memory`, a `SpanData` has \
             `span_context.span_id()` and `parent_span_id`.",
        pt: "Cada span impresso tem um `SpanId` e um `ParentSpanId`; em `memory`, um `SpanData` \
             tem `span_context.span_id()` e `parent_span_id`.",
    },
    change: Text {
        en: "Find the printed publish span and copy its ParentSpanId; the span whose SpanId is \
             that value is the parent: put its name in publish_parent. Do the same for test.",
        pt: "Ache o span publish impresso e copie o ParentSpanId dele; o span cujo SpanId é esse \
             valor é o pai: ponha o nome dele em publish_parent. Faça o mesmo para test.",
    },
};

/// Your turn 3: the parents of `publish` and `test` in the latest build, by name.
pub fn read_the_ids(memory: &InMemorySpanExporter, publish_parent: &str, test_parent: &str) {
    let data = memory.get_finished_spans().unwrap_or_default();
    let spans = TraceSpan::all_from_sdk(&data, SERVICE);
    let mut checks = Checklist::exercise(&READ_THE_IDS);
    let build = checks.check(
        tr!(en: "the build ran", pt: "o build rodou"),
        check::latest(&spans, "build"),
    );
    if let Some(build) = build {
        let trace: Vec<TraceSpan> = spans
            .iter()
            .filter(|span| span.trace_id == build.trace_id)
            .cloned()
            .collect();
        for (step, answer, variable) in [
            ("publish", publish_parent, "publish_parent"),
            ("test", test_parent, "test_parent"),
        ] {
            checks.check(
                &tr!(
                    en: format!("{variable} names the parent of {step}"),
                    pt: format!("{variable} dá o nome do pai de {step}"),
                ),
                parent_named(&trace, step, answer, variable),
            );
        }
    }
    checks.finish();
}

fn parent_named(
    trace: &[TraceSpan],
    step: &str,
    answer: &str,
    variable: &str,
) -> Result<(), CheckFailed> {
    let child = check::find(trace, step)?;
    let parent = trace
        .iter()
        .find(|span| Some(&span.span_id) == child.parent_id.as_ref());
    let parent = parent.map(|span| span.name.as_str()).unwrap_or_default();
    if answer == parent {
        return Ok(());
    }
    let answered = trace.iter().find(|span| span.name == answer);
    Err(CheckFailed(match answered {
        _ if answer.is_empty() => tr!(
            en: format!("{variable} is empty."),
            pt: format!("{variable} está vazio."),
        ),
        None => tr!(
            en: format!("no span of the build is named {answer:?}."),
            pt: format!("nenhum span do build se chama {answer:?}."),
        ),
        Some(span) if span.parent_id.as_ref() == Some(&child.span_id) => tr!(
            en: format!(
                "{answer:?} is a child of {step}, not its parent: its ParentSpanId is {step}'s \
                 SpanId ({}).",
                child.span_id
            ),
            pt: format!(
                "{answer:?} é filho de {step}, não pai: o ParentSpanId dele é o SpanId de {step} \
                 ({}).",
                child.span_id
            ),
        ),
        Some(span) => tr!(
            en: format!(
                "{answer:?} has the SpanId {}, but {step}'s ParentSpanId is {}.",
                span.span_id,
                child.parent_id.as_deref().unwrap_or("0000000000000000")
            ),
            pt: format!(
                "{answer:?} tem o SpanId {}, mas o ParentSpanId de {step} é {}.",
                span.span_id,
                child.parent_id.as_deref().unwrap_or("0000000000000000")
            ),
        ),
    }))
}

/// The lesson's own check: `test_span_02` nested in `test_span_01`, the root of its trace.
pub fn check_lesson(spans: &[SpanData]) {
    let captured = TraceSpan::all_from_sdk(spans, SERVICE);
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 01: nested spans",
            pt: "Exercício 01: spans aninhados",
        ),
        1,
    );
    if let Some(outer) = checks.check(
        tr!(
            en: "a span named test_span_01",
            pt: "um span chamado test_span_01",
        ),
        check::latest(&captured, "test_span_01"),
    ) {
        checks.check(
            tr!(
                en: "test_span_01 is the root of its trace",
                pt: "test_span_01 é a raiz do seu trace",
            ),
            check::that(
                outer.parent_id.is_none(),
                tr!(
                    en: format!("test_span_01 has the parent {:?}", outer.parent_id),
                    pt: format!("test_span_01 tem o pai {:?}", outer.parent_id),
                ),
            ),
        );
        checks.check(
            tr!(
                en: "test_span_02 is nested in test_span_01, in its trace",
                pt: "test_span_02 está aninhado em test_span_01, no trace dele",
            ),
            check::child(&captured, outer, "test_span_02").map(|_| ()),
        );
    } else {
        checks.skipped(tr!(
            en: "nesting of test_span_02 in test_span_01",
            pt: "o aninhamento de test_span_02 em test_span_01",
        ));
    }
    checks.finish();
}
