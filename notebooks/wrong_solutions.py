"""The usual wrong answers to each exercise, and what the exercise's check must say to each.

Each entry is a plausible mistake a student makes (a value hard-coded, a span started outside its
parent, a lock removed instead of narrowed, a context not propagated, an error recorded without
the status...). `code` replaces the exercise's solution regions (one text per `// BEGIN SOLUTION`
region, in order); the check must then fail, and its first ✘ line must contain `says[language]`,
the symptom in the student's own trace, with the first hint (the run counters are forgotten
first). `rerun` says which cells run again after the wrong answer: `"check"`, the exercise cell
and its check, when the check runs the student's code itself; `"range"`, every code cell from
the exercise to its check, when given cells in between compute what the check reads.

Lesson 08's wrong answers name faults that the shop of the tests' seed (`LAB_FAULT_SEED=1`: an
N+1, a swallowed error and a cache that never hits) does not have.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Wrong:
    name: str
    code: list
    says: dict
    rerun: str = "check"


def wrong(name, *code, en, pt, rerun="check"):
    return Wrong(name, list(code), {"en": en, "pt-BR": pt}, rerun)


WRONG = {
    "00-rust-for-this-lab": {
        "your-turn-1": [
            wrong(
                "the threads are never waited for",
                """for number in 0..workers {
    let names = names.clone();
    let tracer = tracer.clone();
    std::thread::spawn(move || {
        let name = format!("worker_{number}");
        tracer.in_span(name.clone(), |_cx| work());
        names.lock().unwrap().push(name);
    });
}""",
                en="the cell ended before its threads did",
                pt="a célula terminou antes das threads",
            ),
            wrong(
                "each thread is waited for before the next starts",
                """for number in 0..workers {
    let names = names.clone();
    let tracer = tracer.clone();
    std::thread::spawn(move || {
        let name = format!("worker_{number}");
        tracer.in_span(name.clone(), |_cx| work());
        names.lock().unwrap().push(name);
    })
    .join()
    .unwrap();
}""",
                en="one after another, not side by side",
                pt="um depois do outro, não lado a lado",
            ),
        ],
        "your-turn-2": [
            wrong(
                "the value is ignored",
                "let _ = value;",
                en="a port number is used: port_from(Some(",
                pt="um número de porta é usado: port_from(Some(",
            ),
            wrong(
                "unwrap on the parse",
                """if let Some(text) = value {
    port = text.parse().unwrap();
}""",
                en="panicked",
                pt="entrou em pânico",
            ),
        ],
        "your-turn-3": [
            wrong(
                "one attempt, no loop",
                'outcome = tracer.in_span("attempt", |_cx| operation(1));',
                en="gave up with",
                pt="desistiu com",
            ),
            wrong(
                "no break after a success",
                """for attempt in 1..=attempts {
    outcome = tracer.in_span("attempt", |_cx| operation(attempt));
}""",
                en="yet more attempts came after it",
                pt="ainda vieram mais tentativas depois dela",
            ),
            wrong(
                "the attempts are not spans",
                """for attempt in 1..=attempts {
    outcome = operation(attempt);
    if outcome.is_ok() {
        break;
    }
}""",
                en='span(s) named "attempt"',
                pt='span(s) chamados "attempt"',
            ),
        ],
        "your-turn-4": [
            wrong(
                "the guard is dropped at once",
                "let _ = cx.clone().attach();",
                en='"guard_child" is a root span',
                pt='"guard_child" é um span raiz',
            ),
        ],
        "your-turn-5": [
            wrong(
                "the shortest job",
                """let finished = job_spans.get_finished_spans().unwrap();
let only_jobs = finished.iter().filter(|span| span.name.starts_with("job_"));
let shortest = only_jobs.min_by_key(|span| span.end_time.duration_since(span.start_time).unwrap_or_default());
slowest = shortest.unwrap().name.to_string();""",
                en="in this run; another job lasted",
                pt="nesta execução; outro job durou",
                rerun="range",
            ),
            wrong(
                "the span that holds the jobs",
                """let finished = job_spans.get_finished_spans().unwrap();
let longest = finished.iter().max_by_key(|span| span.end_time.duration_since(span.start_time).unwrap_or_default());
slowest = longest.unwrap().name.to_string();""",
                en="it is the span that holds the four jobs",
                pt="é o span que contém os quatro jobs",
                rerun="range",
            ),
        ],
    },
    "01-nested-spans-to-stdout": {
        "your-turn-1": [
            wrong(
                "the level as text",
                """tracer.in_span("test_span_03", |cx| {
    cx.span().set_attribute(KeyValue::new("lab.level", "3"));
});""",
                en="a text: a number is written without quotes",
                pt="um texto: um número se escreve sem aspas",
            ),
            wrong(
                "the attribute on the wrong span",
                """tracer.in_span("test_span_03", |_cx| {});
opentelemetry::Context::current().span().set_attribute(KeyValue::new("lab.level", 3));""",
                en='has no attribute "lab.level"',
                pt='não tem o atributo "lab.level"',
            ),
        ],
        "your-turn-2": [
            wrong(
                "the second span inside the first",
                """tracer.in_span("reserve_stock", |_cx| {
    tracer.in_span("charge_card", |_cx| {});
});""",
                en='is inside "reserve_stock"',
                pt='está dentro de "reserve_stock"',
            ),
        ],
        "your-turn-3": [
            wrong(
                "the span itself, not its parent",
                """publish_parent = "publish".to_string();
test_parent = "test".to_string();""",
                en="but publish's ParentSpanId is",
                pt="mas o ParentSpanId de publish é",
            ),
        ],
    },
    "02-export-to-jaeger": {
        "your-turn-1": [
            wrong(
                "a service name of the notebook's own",
                """let exporter = opentelemetry_otlp::SpanExporter::builder()
    .with_http()
    .with_protocol(Protocol::HttpBinary)
    .with_endpoint(traces_url)
    .build()
    .unwrap();
builder = builder
    .with_resource(Resource::builder().with_service_name("loja_da_ana").build())
    .with_batch_exporter(exporter)
    .with_simple_exporter(also_to);""",
                'my_service = "loja_da_ana".to_string();',
                en="the provider's resource has service.name",
                pt="o resource do provider tem service.name",
            ),
            wrong(
                "also_to left out",
                """let exporter = opentelemetry_otlp::SpanExporter::builder()
    .with_http()
    .with_protocol(Protocol::HttpBinary)
    .with_endpoint(traces_url)
    .build()
    .unwrap();
let _ = also_to;
builder = builder
    .with_resource(Resource::builder().with_service_name(service.to_string()).build())
    .with_batch_exporter(exporter);""",
                'my_service = "loja_da_ana".to_string();',
                en="the exporter passed as also_to received no span",
                pt="o exportador passado como also_to não recebeu nenhum span",
            ),
            wrong(
                "no name of one's own",
                """let exporter = opentelemetry_otlp::SpanExporter::builder()
    .with_http()
    .with_protocol(Protocol::HttpBinary)
    .with_endpoint(traces_url)
    .build()
    .unwrap();
builder = builder
    .with_resource(Resource::builder().with_service_name(service.to_string()).build())
    .with_batch_exporter(exporter)
    .with_simple_exporter(also_to);""",
                "",
                en='my_service is ""',
                pt='my_service é ""',
            ),
        ],
        "your-turn-2": [
            wrong(
                "each span ended as it starts",
                'tracer.start(format!("download {id}")).end();',
                "let _ = bytes;",
                en="it ended before the download did",
                pt="ele terminou antes do download",
                rerun="range",
            ),
            wrong(
                "the spans are never taken out of the map",
                'open.insert(id, tracer.start(format!("download {id}")));',
                """if let Some(span) = open.get_mut(&id) {
    span.set_attribute(KeyValue::new("lab.bytes", bytes));
}""",
                en="it ended after the download did",
                pt="ele terminou depois do download",
                rerun="range",
            ),
        ],
    },
    "03-instrument-a-web-service": {
        "your-turn-1": [
            wrong(
                "the user agent of the notebook's own request",
                'attributes.push(KeyValue::new(semconv::USER_AGENT_ORIGINAL, "tracing-lab-student"));',
                en='has user_agent.original = "tracing-lab-student"',
                pt='tem user_agent.original = "tracing-lab-student"',
            ),
            wrong(
                "the old attribute name",
                """if let Some(agent) = request.header("User-Agent") {
    attributes.push(KeyValue::new("http.user_agent", agent.to_string()));
}""",
                en='has no attribute "user_agent.original"',
                pt='não tem o atributo "user_agent.original"',
            ),
        ],
        "your-turn-2": [
            wrong(
                "the path matched exactly",
                """"/team" => traced(tracer, request, Some("/team"), || {
    tracer.in_span("find_member", |_cx| rouille::Response::text("our team"))
}),""",
                en="it answered 404: no route matched the path",
                pt="ela respondeu 404: nenhuma rota casou com o caminho",
            ),
            wrong(
                "no route given to the span",
                """path if path.starts_with("/team/") => {
    let member = path.strip_prefix("/team/").unwrap_or_default().to_string();
    traced(tracer, request, None, || {
        tracer.in_span("find_member", |cx| {
            cx.span().set_attribute(KeyValue::new("lab.member", member.clone()));
            rouille::Response::text(format!("{member} is on the team"))
        })
    })
}""",
                en='the span is named "GET"',
                pt='o span se chama "GET"',
            ),
            wrong(
                "one member for all",
                """path if path.starts_with("/team/") => {
    traced(tracer, request, Some("/team/{member}"), || {
        tracer.in_span("find_member", |cx| {
            cx.span().set_attribute(KeyValue::new("lab.member", "ana"));
            rouille::Response::text("ana is on the team")
        })
    })
}""",
                en='has lab.member = "ana"',
                pt='tem lab.member = "ana"',
            ),
        ],
    },
    "04-a-trace-across-services": {
        "your-turn-1": [
            wrong(
                "injected but never extracted",
                "",
                """if propagate {
    TraceContextPropagator::new().inject_context(&cx, &mut headers);
}""",
                en="is the root of a trace of its own",
                pt="é a raiz de um trace próprio",
            ),
            wrong(
                "the context of before the call injected",
                "parent = TraceContextPropagator::new().extract(&RequestHeaders(request));",
                """if propagate {
    TraceContextPropagator::new().inject_context(&Context::current(), &mut headers);
}""",
                en="not the CLIENT span of the call",
                pt="não o span CLIENT da chamada",
            ),
            wrong(
                "propagate ignored",
                "parent = TraceContextPropagator::new().extract(&RequestHeaders(request));",
                "TraceContextPropagator::new().inject_context(&cx, &mut headers);",
                en="the context went with the request anyway",
                pt="o contexto foi com a requisição mesmo assim",
            ),
        ],
        "your-turn-2": [
            wrong(
                "the name of the notebook's own example",
                """let received = propagator.extract(&Received(headers));
let mut span = tracer.start_with_context("handle_order", &received);
span.set_attribute(KeyValue::new("lab.student", "ada"));
span.end();""",
                en='has lab.student = "ada"',
                pt='tem lab.student = "ada"',
            ),
            wrong(
                "the span started outside the caller's context",
                """let received = propagator.extract(&Received(headers));
let mut span = tracer.start("handle_order");
if let Some(student) = received.baggage().get("lab.student") {
    span.set_attribute(KeyValue::new("lab.student", student.to_string()));
}
span.end();""",
                en="not in the caller's trace",
                pt="não no trace de quem chamou",
            ),
        ],
    },
    "05-what-goes-on-a-span": {
        "your-turn-1": [
            wrong(
                "the error recorded without the status",
                """if let Err(error) = &result {
    span.record_error(error);
    span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, "OutOfStock"));
}""",
                en="has the exception event, but its status is not Error",
                pt="tem o evento de exceção, mas o status não é Error",
            ),
            wrong(
                "a message of one's own",
                """if let Err(error) = &result {
    span.record_error(error);
    span.set_attribute(KeyValue::new(semconv::ERROR_TYPE, "OutOfStock"));
    span.set_status(Status::error("out of stock"));
}""",
                en='its status says "out of stock"',
                pt='o status diz "out of stock"',
            ),
        ],
        "your-turn-2": [
            wrong(
                "the batch made the child of the first message",
                """let parent = Context::new().with_remote_span_context(messages[0].context.clone());
let batch = tracer.span_builder("process batch").with_kind(SpanKind::Consumer).start_with_context(tracer, &parent);
let cx = Context::current_with_span(batch);
{
    let _active = cx.clone().attach();
    for message in messages {
        tracer.in_span("process message", |cx| {
            cx.span().set_attribute(KeyValue::new("messaging.message.id", message.id.clone()));
        });
    }
}
cx.span().end();""",
                en="a message's trace, as the child of its publisher",
                pt="o trace de uma mensagem, como filho de quem a publicou",
            ),
            wrong(
                "the kind left out",
                """let links: Vec<Link> = messages.iter().map(|message| Link::with_context(message.context.clone())).collect();
let batch = tracer.span_builder("process batch").with_links(links).start(tracer);
let cx = Context::current_with_span(batch);
{
    let _active = cx.clone().attach();
    for message in messages {
        tracer.in_span("process message", |cx| {
            cx.span().set_attribute(KeyValue::new("messaging.message.id", message.id.clone()));
        });
    }
}
cx.span().end();""",
                en="its kind is Internal",
                pt="o tipo dele é Internal",
            ),
        ],
        "your-turn-3": [
            wrong(
                "a ratio that does not follow its caller",
                "sampler = Sampler::TraceIdRatioBased(ratio);",
                en="it decides on its own instead of following the caller",
                pt="ele decide sozinho em vez de seguir quem chama",
            ),
            wrong(
                "the ratio of the example",
                "sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.25)));",
                en="it kept",
                pt="ele guardou",
            ),
        ],
    },
    "06-find-the-slow-part": {
        "your-turn-1": [
            wrong(
                "the request itself",
                'holds_up = "GET /order";',
                en="GET /order is the request itself",
                pt="GET /order é a própria requisição",
            ),
            wrong(
                "the span that waits for the lock",
                'holds_up = "load_customer";',
                en='"load_customer" spent',
                pt='"load_customer" passou',
            ),
        ],
        "your-turn-2": [
            wrong(
                "each quote needs the previous one",
                "staircase_because = 'a';",
                en="'a' says each quote needs",
                pt="'a' diz que cada cotação",
            ),
        ],
        "your-turn-3": [
            wrong(
                "the last order counted among those ahead",
                "predicted_wait_ms = 8 * (shop.query + shop.parse).as_millis() as u64;",
                en="you predicted",
                pt="você previu",
            ),
            wrong(
                "the query alone",
                "predicted_wait_ms = 7 * shop.query.as_millis() as u64;",
                en="you predicted",
                pt="você previu",
            ),
        ],
        "your-turn-4": [
            wrong(
                "threads without the request's context",
                """std::thread::scope(|scope| {
    for item in 1..=ITEMS {
        scope.spawn(move || quote_item(tracer, item));
    }
});""",
                en="are roots of traces of their own",
                pt="são raízes de traces próprios",
                rerun="range",
            ),
            wrong(
                "each thread waited for before the next",
                """let cx = Context::current();
std::thread::scope(|scope| {
    for item in 1..=ITEMS {
        let cx = cx.clone();
        scope
            .spawn(move || {
                let _active = cx.attach();
                quote_item(tracer, item);
            })
            .join()
            .unwrap();
    }
});""",
                en="the quotes still come one after another",
                pt="as cotações ainda vêm uma depois da outra",
                rerun="range",
            ),
        ],
        "your-turn-5": [
            wrong(
                "the lock removed instead of narrowed",
                """tracer.in_span("wait_for_connection", |_cx| {});
query(tracer, shop);
tracer.in_span("parse_customer", |_cx| std::thread::sleep(shop.parse));""",
                en="queries ran on the one connection at the same moment",
                pt="queries rodaram na única conexão no mesmo momento",
                rerun="range",
            ),
            wrong(
                "the wait for the connection no longer a span",
                """let connection = shop.connection.lock().unwrap();
query(tracer, shop);
drop(connection);
tracer.in_span("parse_customer", |_cx| std::thread::sleep(shop.parse));""",
                en="have a wait_for_connection inside",
                pt="têm um wait_for_connection dentro",
                rerun="range",
            ),
            wrong(
                "the connection given back after the parsing, as before",
                """let connection = tracer.in_span("wait_for_connection", |_cx| shop.connection.lock().unwrap());
query(tracer, shop);
tracer.in_span("parse_customer", |_cx| std::thread::sleep(shop.parse));
drop(connection);""",
                en="the connection is still held through the parsing",
                pt="a conexão ainda fica presa durante o parsing",
                rerun="range",
            ),
        ],
    },
    "07-the-tracing-crate": {
        "your-turn-1": [
            wrong(
                "the stock recorded as a field",
                "#[instrument]",
                """if remaining < LOW_STOCK {
    warn!(remaining, "stock low");
} else {
    info!(remaining, "stock reserved");
}""",
                en="carries the whole stock as a field",
                pt="leva o estoque inteiro como campo",
            ),
            wrong(
                "always the same level",
                "#[instrument(skip(stock))]",
                'info!(remaining, "stock reserved");',
                en="its span's events are",
                pt="os eventos do span são",
            ),
            wrong(
                "no span at all",
                "",
                """if remaining < LOW_STOCK {
    warn!(remaining, "stock low");
} else {
    info!(remaining, "stock reserved");
}""",
                en="no span reserve_stock carries item",
                pt="nenhum span reserve_stock leva item",
            ),
        ],
        "your-turn-2": [
            wrong(
                "the job carries the span, the worker ignores it",
                "job.span = tracing::Span::current();",
                "",
                en="is the root of a trace of its own",
                pt="é a raiz de um trace próprio",
            ),
            wrong(
                "the worker's own current span",
                "job.span = tracing::Span::current();",
                "parent = tracing::Span::current();",
                en="is the root of a trace of its own",
                pt="é a raiz de um trace próprio",
            ),
        ],
        "your-turn-3": [
            wrong(
                "the headers ignored",
                """let _ = headers;
let span = tracing::info_span!("POST /reserve", otel.kind = "server");
span.in_scope(|| info!("reserved"));""",
                en="is the child of lab_check",
                pt="é filho de lab_check",
            ),
            wrong(
                "the parent set after the span is entered",
                """let parent = global::get_text_map_propagator(|propagator| propagator.extract_with_context(&opentelemetry::Context::new(), headers));
let span = tracing::info_span!(parent: None, "POST /reserve", otel.kind = "server");
let _entered = span.enter();
let _ = span.set_parent(parent);
info!("reserved");""",
                en="not in the trace the headers carry",
                pt="não no trace que os cabeçalhos levam",
            ),
        ],
    },
    "08-what-is-wrong-with-this-shop": {
        "your-turn-1": [
            wrong(
                "a fault the shop does not have",
                "findings.push(Finding::new(Fault::RetryStorm, traffic.slowest()));",
                en="nothing in that trace has the signature of RetryStorm",
                pt="nada nesse trace tem a assinatura de RetryStorm",
            ),
            wrong(
                "an error looked for in the slowest trace",
                "findings.push(Finding::new(Fault::SwallowedError, traffic.slowest()));",
                en="nothing in that trace has the signature of SwallowedError",
                pt="nada nesse trace tem a assinatura de SwallowedError",
            ),
        ],
        "your-turn-2": [
            wrong(
                "every repair, just in case",
                """repairs = vec![
    Repair::CarryContextThroughQueue,
    Repair::BatchStockLookups,
    Repair::SetErrorStatus,
    Repair::RetryWithBackoff { attempts: 3, backoff_ms: 50 },
    Repair::ReleaseLockBeforeCall,
    Repair::CacheByCart,
    Repair::PaymentsTimeout { ms: 400 },
];""",
                en="change(s) what no trace showed broken",
                pt="muda(m) o que nenhum trace mostrou quebrado",
            ),
            wrong(
                "one fault left",
                "repairs = vec![Repair::BatchStockLookups, Repair::SetErrorStatus];",
                en="still shows a fault none of your repairs addresses",
                pt="ainda mostra uma falha que nenhum conserto seu trata",
            ),
        ],
    },
}
