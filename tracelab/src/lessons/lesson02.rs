//! Notebook 02, export to Jaeger: the check of the student's pipeline (with an exporter that
//! records what reaches it), the downloads whose spans the student ends by hand, and the lesson's
//! own check.

use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};

use super::finished;
use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::jaeger::{Jaeger, JaegerError};
use crate::model::{human_duration, TraceSpan};
pub use crate::recorder::Recorder;
use crate::tr;

const LESSON: &str = "02-export-to-jaeger";
const SERVICE: &str = "example_exporter";

pub const PIPELINE: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 3,
    title: Text {
        en: "Your turn 1: a pipeline of your own",
        pt: "Sua vez 1: um pipeline seu",
    },
    section: Text {
        en: "A provider that exports in batches",
        pt: "Um provider que exporta em lotes",
    },
    api: Text {
        en: "`SdkTracerProvider::builder()` takes `with_resource(..)` (a `Resource::builder()` \
             with `with_service_name(..)`), `with_batch_exporter(..)` (an \
             `opentelemetry_otlp::SpanExporter` built as in the exporter cell, with \
             `with_endpoint(traces_url)`) and `with_simple_exporter(..)`.",
        pt: "`SdkTracerProvider::builder()` recebe `with_resource(..)` (um `Resource::builder()` \
             com `with_service_name(..)`), `with_batch_exporter(..)` (um \
             `opentelemetry_otlp::SpanExporter` montado como na célula do exportador, com \
             `with_endpoint(traces_url)`) e `with_simple_exporter(..)`.",
    },
    change: Text {
        en: "In pipeline, build an OTLP exporter for traces_url the way the exporter cell does; \
             then give builder a resource named after service, that exporter as a batch \
             exporter, and also_to as a simple exporter. Set my_service to a name you choose.",
        pt: "Em pipeline, monte um exportador OTLP para traces_url como a célula do exportador \
             faz; depois dê ao builder um resource com o nome de service, esse exportador como \
             exportador em lote e also_to como exportador simples. Ponha em my_service um nome \
             que você escolher.",
    },
};

/// Your turn 1: `my_service` is the student's own, and `pipeline`, asked for a service name
/// made up now, gives a provider whose spans carry that name, reach `also_to` (a [`Recorder`])
/// and the OTLP endpoint: Jaeger has the trace under that name, and lists the service.
pub fn pipeline(my_service: &str, pipeline: impl Fn(&str, Recorder) -> SdkTracerProvider) {
    let mut checks = Checklist::exercise(&PIPELINE);
    checks.check(
        tr!(
            en: "my_service is a name of your own",
            pt: "my_service é um nome seu",
        ),
        check::that(
            !my_service.trim().is_empty()
                && !my_service.starts_with("unknown_service")
                && my_service != SERVICE,
            tr!(
                en: format!(
                    "my_service is {my_service:?}: empty, the SDK's placeholder or the \
                     notebook's name, not yours."
                ),
                pt: format!(
                    "my_service é {my_service:?}: vazio, o valor provisório do SDK ou o nome do \
                     notebook, não o seu."
                ),
            ),
        ),
    );
    let service = format!("lab-check-{:04x}", fastrand::u16(..));
    let recorder = Recorder::default();
    let built = calling("pipeline", || pipeline(&service, recorder.clone()));
    let Some(provider) = checks.check(
        &tr!(
            en: format!("pipeline({service:?}, ..) gives a provider"),
            pt: format!("pipeline({service:?}, ..) dá um provider"),
        ),
        built,
    ) else {
        checks.finish();
        return;
    };
    let trace_id = provider
        .tracer("lab-check")
        .in_span("pipeline_check", |cx| {
            use opentelemetry::trace::TraceContextExt as _;
            cx.span().span_context().trace_id()
        });
    let flushed = provider.force_flush();
    checks.check(
        tr!(
            en: "a span sent through it reaches also_to",
            pt: "um span enviado por ele chega ao also_to",
        ),
        check::that(
            recorder
                .spans()
                .iter()
                .any(|span| span.span_context.trace_id() == trace_id),
            tr!(
                en: "the exporter passed as also_to received no span: the provider does not \
                     send to it.",
                pt: "o exportador passado como also_to não recebeu nenhum span: o provider não \
                     envia para ele.",
            ),
        ),
    );
    checks.check(
        &tr!(
            en: format!("its spans carry service.name = {service}"),
            pt: format!("os spans dele levam service.name = {service}"),
        ),
        match recorder.service_name() {
            Some(name) if name == service => Ok(()),
            name => Err(CheckFailed(tr!(
                en: format!(
                    "the provider's resource has service.name = {:?}: a backend would list \
                     these spans under that name.",
                    name.unwrap_or_default()
                ),
                pt: format!(
                    "o resource do provider tem service.name = {:?}: um backend listaria estes \
                     spans com esse nome.",
                    name.unwrap_or_default()
                ),
            ))),
        },
    );
    checks.check(
        tr!(
            en: "the flush delivered it to the OTLP endpoint",
            pt: "o flush o entregou ao endpoint OTLP",
        ),
        flushed.map_err(|error| {
            CheckFailed(tr!(
                en: format!("the export failed: {error}"),
                pt: format!("a exportação falhou: {error}"),
            ))
        }),
    );
    let jaeger = Jaeger::from_env();
    let in_jaeger = tr!(
        en: format!("Jaeger has the trace under {service}, and lists the service"),
        pt: format!("o Jaeger tem o trace sob {service}, e lista o serviço"),
    );
    // With the pipeline already wrong, Jaeger cannot have the trace: say so at once rather than
    // wait for it.
    if !checks.passed() {
        checks.skipped(&in_jaeger);
    } else {
        match jaeger.wait_for_trace(trace_id, Duration::from_secs(5)) {
            Err(JaegerError::Unreachable { .. }) => checks.skip(
                &in_jaeger,
                tr!(
                    en: "no Jaeger answers here (JAEGER_QUERY_URL)",
                    pt: "nenhum Jaeger responde aqui (JAEGER_QUERY_URL)",
                ),
            ),
            Err(error) => {
                checks.check(
                    &in_jaeger,
                    Err::<(), _>(CheckFailed(tr!(
                        en: format!(
                            "{error} The provider did not send the span to the OTLP endpoint, or \
                             not to this Jaeger."
                        ),
                        pt: format!(
                            "{error} O provider não enviou o span ao endpoint OTLP, ou não a este \
                             Jaeger."
                        ),
                    ))),
                );
            }
            Ok(spans) => {
                let listed = jaeger.services().unwrap_or_default();
                checks.check(
                    &in_jaeger,
                    if spans.iter().any(|span| span.service != service) {
                        Err(CheckFailed(tr!(
                            en: format!(
                                "Jaeger lists the trace under {:?}.",
                                spans.first().map(|span| span.service.clone()).unwrap_or_default()
                            ),
                            pt: format!(
                                "o Jaeger lista o trace sob {:?}.",
                                spans.first().map(|span| span.service.clone()).unwrap_or_default()
                            ),
                        )))
                    } else {
                        check::that(
                            listed.contains(&service),
                            tr!(
                                en: format!("Jaeger's services are {listed:?}."),
                                pt: format!("os serviços do Jaeger são {listed:?}."),
                            ),
                        )
                    },
                );
            }
        }
    }
    let _ = provider.shutdown();
    checks.finish();
}

/// One event of a download, as [`downloads`] plays them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Download {
    Started { id: u32 },
    Finished { id: u32, bytes: i64 },
}

/// Where the downloads of the last [`downloads`] keep what happened when, for the check (in the
/// process's environment: each evcxr cell has its own copy of this crate's statics).
const DOWNLOADS_PLAYED: &str = "TRACELAB_LESSON02_DOWNLOADS";

/// The events of four to six downloads, played in real time: each download starts at a moment
/// and lasts a time drawn now (20 to 120 ms), so that they overlap and finish in another order
/// than they started. The iterator waits until each event's moment before it yields it.
pub fn downloads() -> impl Iterator<Item = Download> {
    let count = fastrand::u32(4..=6);
    let mut timeline: Vec<(u64, Download)> = Vec::new();
    for id in 1..=count {
        let start = fastrand::u64(0..80);
        let lasts = fastrand::u64(20..=120);
        let bytes = fastrand::i64(1_000..5_000_000);
        timeline.push((start, Download::Started { id }));
        timeline.push((start + lasts, Download::Finished { id, bytes }));
    }
    timeline.sort_by_key(|(at, event)| (*at, matches!(event, Download::Started { .. })));
    std::env::remove_var(DOWNLOADS_PLAYED);
    let began = Instant::now();
    timeline.into_iter().map(move |(at, event)| {
        let due = Duration::from_millis(at);
        if let Some(wait) = due.checked_sub(began.elapsed()) {
            thread::sleep(wait);
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let (id, what) = match event {
            Download::Started { id } => (id, "s".to_owned()),
            Download::Finished { id, bytes } => (id, format!("f{bytes}")),
        };
        let played = std::env::var(DOWNLOADS_PLAYED).unwrap_or_default();
        std::env::set_var(DOWNLOADS_PLAYED, format!("{played}{id}:{what}:{now};"));
        event
    })
}

/// One download as it was played: when it started and finished, and its size.
#[derive(Debug, Clone, PartialEq)]
struct Played {
    id: u32,
    started_ns: u128,
    finished_ns: Option<u128>,
    bytes: Option<i64>,
}

fn played() -> Vec<Played> {
    let mut all: Vec<Played> = Vec::new();
    for record in std::env::var(DOWNLOADS_PLAYED)
        .unwrap_or_default()
        .split(';')
    {
        let mut fields = record.split(':');
        let (Some(id), Some(what), Some(at)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let (Ok(id), Ok(at)) = (id.parse::<u32>(), at.parse::<u128>()) else {
            continue;
        };
        match what.strip_prefix('f') {
            None => all.push(Played {
                id,
                started_ns: at,
                finished_ns: None,
                bytes: None,
            }),
            Some(bytes) => {
                if let Some(download) = all.iter_mut().find(|download| download.id == id) {
                    download.finished_ns = Some(at);
                    download.bytes = bytes.parse().ok();
                }
            }
        }
    }
    all
}

pub const DOWNLOADS: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 2,
    title: Text {
        en: "Your turn 2: spans you end yourself",
        pt: "Sua vez 2: spans que você mesmo termina",
    },
    section: Text {
        en: "Your turn 2: spans you end yourself",
        pt: "Sua vez 2: spans que você mesmo termina",
    },
    api: Text {
        en: "`tracer.start(name)` returns a span that runs until `end()` is called on it (the \
             `Span` trait, imported in the cell); `open.insert(id, span)` keeps it, \
             `open.remove(&id)` gives it back as an `Option`; `set_attribute` with a \
             `KeyValue::new(..)` adds the size.",
        pt: "`tracer.start(name)` devolve um span que dura até `end()` ser chamado nele (o trait \
             `Span`, importado na célula); `open.insert(id, span)` o guarda, \
             `open.remove(&id)` o devolve como um `Option`; `set_attribute` com um \
             `KeyValue::new(..)` acrescenta o tamanho.",
    },
    change: Text {
        en: "When a download starts, start a span with its name and keep it in open under the \
             download's id. When it finishes, take that span out of open, set lab.bytes on it to \
             the size, and end it then.",
        pt: "Quando um download começa, inicie um span com o nome dele e guarde-o em open com o \
             id do download. Quando ele termina, tire esse span de open, defina lab.bytes nele \
             com o tamanho e termine-o nesse momento.",
    },
};

/// Your turn 2: each download of the last [`downloads`] has a span `download {id}` that lasted
/// as long as the download, with `lab.bytes` its size.
pub fn downloads_traced(memory: &InMemorySpanExporter) {
    let spans = finished(memory, SERVICE);
    let played = played();
    let mut checks = Checklist::exercise(&DOWNLOADS);
    if played.is_empty() {
        checks.check(
            tr!(en: "the downloads ran", pt: "os downloads rodaram"),
            Err::<(), _>(CheckFailed(
                tr!(
                    en: "no download has run: run the exercise's cell.",
                    pt: "nenhum download rodou: execute a célula do exercício.",
                )
                .to_owned(),
            )),
        );
    }
    for download in &played {
        let name = format!("download {}", download.id);
        let what = tr!(
            en: format!("{name} has a span that lasted as long as it, with lab.bytes"),
            pt: format!("{name} tem um span que durou o mesmo que ele, com lab.bytes"),
        );
        let verdict = check::latest(&spans, &name).and_then(|span| lasted_as_long(span, download));
        checks.check(&what, verdict);
    }
    checks.finish();
}

fn lasted_as_long(span: &TraceSpan, download: &Played) -> Result<(), CheckFailed> {
    let (Some(finished_ns), Some(bytes)) = (download.finished_ns, download.bytes) else {
        return Err(CheckFailed(
            tr!(
                en: "the download never finished: run the exercise's cell to its end.",
                pt: "o download nunca terminou: execute a célula do exercício até o fim.",
            )
            .to_owned(),
        ));
    };
    let took = finished_ns.saturating_sub(download.started_ns);
    let lasted = span.duration_ns();
    // The span starts and ends a moment after the events it stands for: 10 ms of slack, more on
    // a busy machine.
    let slack = 10_000_000 + took / 10;
    if lasted.abs_diff(took) > slack {
        let (lasted, took) = (human_duration(lasted), human_duration(took));
        let when = if span.end_ns + slack / 2 < finished_ns {
            tr!(
                en: "it ended before the download did",
                pt: "ele terminou antes do download",
            )
        } else {
            tr!(
                en: "it ended after the download did",
                pt: "ele terminou depois do download",
            )
        };
        return Err(CheckFailed(tr!(
            en: format!("the span lasted {lasted}, the download {took}: {when}."),
            pt: format!("o span durou {lasted}, o download {took}: {when}."),
        )));
    }
    check::attribute(span, "lab.bytes", &bytes.to_string())
}

/// The lesson's own check: the original exercise's spans, their export, and the global-provider
/// trap as the cells showed it.
pub fn check_lesson(
    finished: &[SpanData],
    delivered: &OTelSdkResult,
    later_cell_captured: bool,
    same_cell_captured: bool,
) {
    let exported = TraceSpan::all_from_sdk(finished, SERVICE);
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 02: export to Jaeger",
            pt: "Exercício 02: exportar para o Jaeger",
        ),
        1,
    );
    if let Some(outer) = checks.check(
        tr!(
            en: "test_span_01 was captured",
            pt: "test_span_01 foi capturado",
        ),
        check::latest(&exported, "test_span_01"),
    ) {
        checks.check(
            tr!(
                en: "test_span_02 is nested in test_span_01",
                pt: "test_span_02 está aninhado em test_span_01",
            ),
            check::child(&exported, outer, "test_span_02").map(|_| ()),
        );
    }
    checks.check(
        tr!(
            en: "the backend accepted the spans",
            pt: "o backend aceitou os spans",
        ),
        delivered.as_ref().map(|_| ()).map_err(|error| {
            CheckFailed(tr!(
                en: format!(
                    "exporting failed ({error}); start Jaeger with the command at the top"
                ),
                pt: format!(
                    "a exportação falhou ({error}); suba o Jaeger com o comando lá do começo"
                ),
            ))
        }),
    );
    checks.check(
        tr!(
            en: "a global tracer taken in a later cell exports nothing (the evcxr trap)",
            pt: "um tracer global pego em uma célula posterior não exporta nada (a armadilha do \
                 evcxr)",
        ),
        check::that(
            !later_cell_captured,
            tr!(
                en: "it did export: this evcxr version keeps the global provider across cells",
                pt: "ele exportou: esta versão do evcxr mantém o provider global entre células",
            ),
        ),
    );
    checks.check(
        tr!(
            en: "a global tracer used in the cell that set the provider works",
            pt: "um tracer global usado na célula que definiu o provider funciona",
        ),
        check::that(
            same_cell_captured,
            tr!(
                en: "its span was not captured",
                pt: "o span dele não foi capturado",
            ),
        ),
    );
    checks.finish();
}
