//! Notebook 03, instrument a web service: the checks that serve the student's routes on a port of
//! their own and send them requests made up as they run, and the lesson's own check.

use std::time::Duration;

use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer};

use super::finished;
use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::model::TraceSpan;
use crate::tr;

const LESSON: &str = "03-instrument-a-web-service";
const SERVICE: &str = "service_example";

/// The student's routes served by a check: a server on a free loopback port, stopped when the
/// check ends.
struct Served {
    server: crate::serve::Served,
    agent: ureq::Agent,
}

impl Served {
    fn start<R>(tracer: &SdkTracer, routes: R) -> Result<Served, CheckFailed>
    where
        R: Fn(&SdkTracer, &rouille::Request) -> rouille::Response + Send + Sync + Clone + 'static,
    {
        let tracer = tracer.clone();
        let server = crate::serve::serve(
            "the check's server",
            "TRACELAB_CHECK_PORT",
            0,
            move |request| routes(&tracer, request),
        )
        .map_err(|error| CheckFailed(error.to_string()))?;
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(10))
            .build();
        Ok(Served { server, agent })
    }

    /// Sends `GET path` with `headers` and a `traceparent` of a trace made up now, and returns
    /// the status and that trace's id: the request's SERVER span continues it.
    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<(u16, String), CheckFailed> {
        let trace_id = format!("{:032x}", fastrand::u128(1..));
        let caller = format!("{:016x}", fastrand::u64(1..));
        let mut request = self
            .agent
            .get(&format!("{}{path}", self.server.url()))
            .set("traceparent", &format!("00-{trace_id}-{caller}-01"));
        for (name, value) in headers {
            request = request.set(name, value);
        }
        let status = calling(&format!("GET {path}"), || match request.call() {
            Ok(response) => Ok(response.status()),
            Err(ureq::Error::Status(status, _)) => Ok(status),
            Err(error) => Err(error.to_string()),
        })?
        .map_err(|error| {
            CheckFailed(tr!(
                en: format!("GET {path} got no answer: {error}"),
                pt: format!("GET {path} não teve resposta: {error}"),
            ))
        })?;
        Ok((status, trace_id))
    }
}

/// The SERVER span of the request whose trace is `trace_id`.
fn server_span(spans: &[TraceSpan], trace_id: &str, path: &str) -> Result<TraceSpan, CheckFailed> {
    spans
        .iter()
        .find(|span| span.trace_id == trace_id && span.kind == "server")
        .cloned()
        .ok_or_else(|| {
            CheckFailed(tr!(
                en: format!(
                    "the request GET {path} left no SERVER span in its trace {trace_id}: it was not \
                     traced, or not in the trace its traceparent named."
                ),
                pt: format!(
                    "a requisição GET {path} não deixou nenhum span SERVER no trace {trace_id}: \
                     ela não foi rastreada, ou não no trace que o traceparent dela indicou."
                ),
            ))
        })
}

pub const USER_AGENT: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 1,
    title: Text {
        en: "Your turn 1: the client's user agent",
        pt: "Sua vez 1: o user agent do cliente",
    },
    section: Text {
        en: "Naming the span and describing the request",
        pt: "Nomeando o span e descrevendo a requisição",
    },
    api: Text {
        en: "`request.header(\"User-Agent\")` gives an `Option<&str>`; the constant \
             `semconv::USER_AGENT_ORIGINAL` is the attribute's name; `attributes.push(..)` adds a \
             `KeyValue` to the list.",
        pt: "`request.header(\"User-Agent\")` dá um `Option<&str>`; a constante \
             `semconv::USER_AGENT_ORIGINAL` é o nome do atributo; `attributes.push(..)` acrescenta \
             um `KeyValue` à lista.",
    },
    change: Text {
        en: "In request_attributes, when the request has a User-Agent header, push one more \
             attribute: the conventions' user agent name, with the header's own value (owned, as \
             a String), never a text of your own.",
        pt: "Em request_attributes, quando a requisição tiver um cabeçalho User-Agent, acrescente \
             mais um atributo: o nome de user agent das convenções, com o próprio valor do \
             cabeçalho (como String), nunca um texto seu.",
    },
};

/// Your turn 1: a request with a user agent made up now leaves it in its SERVER span's
/// `user_agent.original`.
pub fn user_agent<R>(memory: &InMemorySpanExporter, tracer: &SdkTracer, routes: R)
where
    R: Fn(&SdkTracer, &rouille::Request) -> rouille::Response + Send + Sync + Clone + 'static,
{
    let mut checks = Checklist::exercise(&USER_AGENT);
    let agent = format!("lab-check/{:04x}", fastrand::u16(..));
    let served = Served::start(tracer, routes);
    let what = tr!(
        en: format!("a request with User-Agent: {agent} has it in user_agent.original"),
        pt: format!("uma requisição com User-Agent: {agent} o tem em user_agent.original"),
    );
    let verdict = served.and_then(|served| {
        let (_, trace_id) = served.get("/", &[("User-Agent", &agent)])?;
        let span = server_span(&finished(memory, SERVICE), &trace_id, "/")?;
        check::attribute(&span, "user_agent.original", &agent)
    });
    checks.check(&what, verdict);
    checks.finish();
}

pub const TEAM_ROUTE: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 3,
    title: Text {
        en: "Your turn 2: a route with a parameter",
        pt: "Sua vez 2: uma rota com um parâmetro",
    },
    section: Text {
        en: "Naming the span and describing the request",
        pt: "Nomeando o span e descrevendo a requisição",
    },
    api: Text {
        en: "A match arm with a guard, `path if path.starts_with(..)`, catches every member's \
             path; `path.strip_prefix(..)` gives the member; `traced(tracer, request, \
             Some(route), || ..)` names the span after `route`; inside, `tracer.in_span` and \
             `cx.span().set_attribute(..)` as in `/`.",
        pt: "Um braço de match com guarda, `path if path.starts_with(..)`, pega o caminho de \
             qualquer membro; `path.strip_prefix(..)` dá o membro; `traced(tracer, request, \
             Some(route), || ..)` nomeia o span pela `route`; dentro, `tracer.in_span` e \
             `cx.span().set_attribute(..)` como em `/`.",
    },
    change: Text {
        en: "Add an arm before the last one for paths that start with /team/. In it, cut the \
             member's name off the path, then call traced with the route pattern /team/{member} \
             (the same text for every member) and a closure that opens find_member, sets \
             lab.member to the name, and answers a text with the name.",
        pt: "Acrescente um braço antes do último para caminhos que começam com /team/. Nele, \
             corte o nome do membro do caminho, depois chame traced com o padrão de rota \
             /team/{member} (o mesmo texto para todos os membros) e um closure que abre \
             find_member, define lab.member com o nome e responde um texto com o nome.",
    },
};

/// Your turn 2: `GET /team/{name}` for names made up now answers 200, in a SERVER span named
/// after the route pattern, with `find_member` inside carrying the name.
pub fn team_route<R>(memory: &InMemorySpanExporter, tracer: &SdkTracer, routes: R)
where
    R: Fn(&SdkTracer, &rouille::Request) -> rouille::Response + Send + Sync + Clone + 'static,
{
    let mut checks = Checklist::exercise(&TEAM_ROUTE);
    let mut members = vec![
        "ana", "bruno", "carla", "davi", "elis", "fabio", "gal", "heitor",
    ];
    fastrand::shuffle(&mut members);
    let served = match Served::start(tracer, routes) {
        Ok(served) => served,
        Err(error) => {
            checks.check(
                tr!(en: "the routes are served", pt: "as rotas são servidas"),
                Err::<(), _>(error),
            );
            checks.finish();
            return;
        }
    };
    for member in &members[..2] {
        let path = format!("/team/{member}");
        let answered = served.get(&path, &[]);
        let Some((status, trace_id)) = checks.check(
            &tr!(
                en: format!("GET {path} answers 200"),
                pt: format!("GET {path} responde 200"),
            ),
            answered.and_then(|(status, trace_id)| {
                check::that(
                    status == 200,
                    tr!(
                        en: format!("it answered {status}: no route matched the path."),
                        pt: format!("ela respondeu {status}: nenhuma rota casou com o caminho."),
                    ),
                )
                .map(|_| (status, trace_id))
            }),
        ) else {
            continue;
        };
        let _ = status;
        let spans = finished(memory, SERVICE);
        let named = server_span(&spans, &trace_id, &path).and_then(|span| {
            route_named(&span, member)?;
            Ok(span)
        });
        if let Some(span) = checks.check(
            tr!(
                en: "its span is named after the route pattern GET /team/{member}",
                pt: "o span dela tem o nome do padrão de rota GET /team/{member}",
            ),
            named,
        ) {
            checks.check(
                &tr!(
                    en: format!("find_member inside it carries lab.member = {member}"),
                    pt: format!("find_member dentro dele leva lab.member = {member}"),
                ),
                check::child(&spans, &span, "find_member")
                    .and_then(|find| check::attribute(find, "lab.member", member)),
            );
        }
    }
    checks.finish();
}

/// `span` is named `GET /team/{member}` and has that route: the pattern, not the path.
fn route_named(span: &TraceSpan, member: &str) -> Result<(), CheckFailed> {
    let expected = "GET /team/{member}";
    if span.name == expected {
        return check::attribute(span, "http.route", "/team/{member}");
    }
    Err(CheckFailed(if span.name.contains(member) {
        tr!(
            en: format!(
                "the span is named {:?}: with the member in its name, every member makes a \
                 group of its own in a backend. The name holds the pattern.",
                span.name
            ),
            pt: format!(
                "o span se chama {:?}: com o membro no nome, cada membro vira um grupo próprio \
                 em um backend. O nome leva o padrão.",
                span.name
            ),
        )
    } else if span.name == "GET" {
        tr!(
            en: "the span is named \"GET\": the request went through the route for unknown \
                 paths.",
            pt: "o span se chama \"GET\": a requisição passou pela rota de caminhos \
                 desconhecidos.",
        )
        .to_owned()
    } else {
        tr!(
            en: format!("the span is named {:?}, not {expected:?}.", span.name),
            pt: format!("o span se chama {:?}, não {expected:?}.", span.name),
        )
    }))
}

/// The lesson's own check: a SERVER span per request, `test_span` inside `GET /`, the
/// conventions' attributes, the unknown path named after its method only, and the caller's trace
/// `caller_trace` continued.
pub fn check_lesson(memory: &InMemorySpanExporter, caller_trace: &str) {
    let captured = finished(memory, SERVICE);
    let mut checks = Checklist::new(
        tr!(
            en: "Exercise 03: an instrumented web service",
            pt: "Exercício 03: um serviço web instrumentado",
        ),
        1,
    );
    let root_hello = captured
        .iter()
        .rfind(|span| span.name == "GET /" && span.parent_id.is_none())
        .ok_or_else(|| {
            CheckFailed(
                tr!(
                    en: "no GET / span is a root span",
                    pt: "nenhum span GET / é um span raiz",
                )
                .to_owned(),
            )
        });
    if let Some(hello) = checks.check(
        tr!(
            en: "a GET / request started a trace",
            pt: "uma requisição GET / começou um trace",
        ),
        root_hello,
    ) {
        checks.check(
            tr!(en: "GET / is a SERVER span", pt: "GET / é um span SERVER"),
            check::equal(
                tr!(en: "its kind", pt: "o tipo dele"),
                hello.kind.as_str(),
                "server",
            ),
        );
        checks.check(
            tr!(
                en: "test_span is the child of GET /",
                pt: "test_span é filho de GET /",
            ),
            check::child(&captured, hello, "test_span").map(|_| ()),
        );
        checks.check(
            tr!(en: "GET / carries http.route", pt: "GET / leva http.route"),
            check::attribute(hello, "http.route", "/"),
        );
        checks.check(
            tr!(
                en: "GET / carries the status code",
                pt: "GET / leva o código de status",
            ),
            check::attribute(hello, "http.response.status_code", "200"),
        );
    }
    // The request to /missing, not a check's request that a route of the student's left unnamed.
    let unknown: Vec<TraceSpan> = captured
        .iter()
        .filter(|span| {
            span.attributes
                .iter()
                .any(|(k, v)| k == "url.path" && v == "/missing")
        })
        .cloned()
        .collect();
    if let Some(missing) = checks.check(
        tr!(
            en: "the unknown path has a span named GET",
            pt: "o caminho desconhecido tem um span chamado GET",
        ),
        check::latest(&unknown, "GET"),
    ) {
        checks.check(
            tr!(en: "it answered 404", pt: "ele respondeu 404"),
            check::attribute(missing, "http.response.status_code", "404"),
        );
    }
    let continued = captured
        .iter()
        .find(|span| span.trace_id == caller_trace && span.kind == "server");
    checks.check(
        tr!(
            en: "the request with a traceparent continued the caller's trace",
            pt: "a requisição com traceparent continuou o trace de quem chamou",
        ),
        continued.map(|_| ()).ok_or_else(|| {
            CheckFailed(tr!(
                en: format!("no server span in trace {caller_trace}"),
                pt: format!("nenhum span de servidor no trace {caller_trace}"),
            ))
        }),
    );
    checks.finish();
}
