//! Notebook 00, Rust for this lab: its exercises' checks, and the values they choose as they run.

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry::trace::Tracer as _;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracer};

use super::finished;
use crate::check::{self, calling, CheckFailed, Checklist};
use crate::exercise::{Exercise, Text};
use crate::tr;

const LESSON: &str = "00-rust-for-this-lab";
/// The service name the lesson's spans are shown under: its provider names none.
const SERVICE: &str = "unknown_service";

pub const WORKERS: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-1",
    points: 2,
    title: Text {
        en: "Your turn 1: workers that share a list",
        pt: "Sua vez 1: workers que dividem uma lista",
    },
    section: Text {
        en: "Arc and Mutex",
        pt: "Arc e Mutex",
    },
    api: Text {
        en:
            "`std::thread::spawn` runs a `move` closure on a new thread and returns a handle whose \
             `join()` waits for it; `clone()` of the `Arc` and of the tracer gives each thread \
             handles of its own; `lock()` on the `Mutex` gives one thread at a time the list.",
        pt: "`std::thread::spawn` roda um closure `move` em uma thread nova e devolve um handle \
             cujo `join()` espera por ela; o `clone()` do `Arc` e do tracer dá a cada thread \
             handles próprios; o `lock()` do `Mutex` dá a lista a uma thread por vez.",
    },
    change: Text {
        en: "For each worker number, clone the list's handle and the tracer, then spawn a thread \
             that builds the name, runs work() inside a span of that name and pushes the name \
             into the list. Keep every handle the spawns return, and join them all before the \
             block ends.",
        pt: "Para cada número de worker, clone o handle da lista e o tracer e então crie uma \
             thread que monta o nome, roda work() dentro de um span com esse nome e coloca o nome \
             na lista. Guarde todos os handles que os spawns devolvem e faça join de todos antes \
             de o bloco terminar.",
    },
};

/// How many workers this run of notebook 00 asks for: 3 to 6, drawn as the cell runs.
pub fn how_many_workers() -> usize {
    fastrand::usize(3..=6)
}

/// Your turn 1: `workers` threads each made a span `worker_N` and put its name in `names`, all
/// before the cell ended (`listed_at_the_end` names were in the list then), at the same time.
pub fn workers(
    memory: &InMemorySpanExporter,
    names: &Arc<Mutex<Vec<String>>>,
    workers: usize,
    listed_at_the_end: usize,
) {
    let expected: Vec<String> = (0..workers).map(|n| format!("worker_{n}")).collect();
    let mut listed = names.lock().map(|list| list.clone()).unwrap_or_default();
    listed.sort();
    let spans = finished(memory, SERVICE);
    let mut checks = Checklist::exercise(&WORKERS);
    checks.check(
        &tr!(
            en: format!("the list holds worker_0 to worker_{}", workers - 1),
            pt: format!("a lista tem de worker_0 a worker_{}", workers - 1),
        ),
        if listed.is_empty() {
            Err(CheckFailed(
                tr!(
                    en: "the list is empty: no thread put a name in it.",
                    pt: "a lista está vazia: nenhuma thread pôs um nome nela.",
                )
                .to_owned(),
            ))
        } else {
            check::equal(
                tr!(en: "the list", pt: "a lista"),
                listed.clone(),
                expected.clone(),
            )
        },
    );
    checks.check(
        tr!(
            en: "every name was in the list when the cell ended",
            pt: "todos os nomes estavam na lista quando a célula terminou",
        ),
        check::that(
            listed_at_the_end == workers,
            tr!(
                en: format!(
                    "when the cell ended, the list held {listed_at_the_end} of {workers} names: \
                     the cell ended before its threads did, and the rest came later."
                ),
                pt: format!(
                    "quando a célula terminou, a lista tinha {listed_at_the_end} de {workers} \
                     nomes: a célula terminou antes das threads, e o resto chegou depois."
                ),
            ),
        ),
    );
    let made: Vec<_> = expected
        .iter()
        .filter_map(|name| check::latest(&spans, name).ok())
        .collect();
    let missing: Vec<&String> = expected
        .iter()
        .filter(|name| !made.iter().any(|span| &&span.name == name))
        .collect();
    checks.check(
        tr!(en: "a span for each worker", pt: "um span para cada worker"),
        check::that(
            missing.is_empty(),
            tr!(
                en: format!("no span is named {missing:?}."),
                pt: format!("nenhum span se chama {missing:?}."),
            ),
        ),
    );
    if made.len() == workers && workers > 1 {
        let last_start = made.iter().map(|span| span.start_ns).max().unwrap_or(0);
        let first_end = made.iter().map(|span| span.end_ns).min().unwrap_or(0);
        checks.check(
            tr!(
                en: "the workers ran at the same time",
                pt: "os workers rodaram ao mesmo tempo",
            ),
            check::that(
                last_start < first_end,
                tr!(
                    en: "the worker spans come one after another, not side by side: the work \
                         ran on one thread at a time.",
                    pt: "os spans dos workers vêm um depois do outro, não lado a lado: o \
                         trabalho rodou em uma thread por vez.",
                ),
            ),
        );
    } else {
        checks.skipped(tr!(
            en: "the workers ran at the same time",
            pt: "os workers rodaram ao mesmo tempo",
        ));
    }
    checks.finish();
}

pub const PORT_FROM: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-2",
    points: 1,
    title: Text {
        en: "Your turn 2: a port from the environment",
        pt: "Sua vez 2: uma porta do ambiente",
    },
    section: Text {
        en: "Option, Result and match",
        pt: "Option, Result e match",
    },
    api: Text {
        en: "`if let Some(..) = value` looks inside the `Option`; `parse::<u16>()` gives a \
             `Result`, `Ok(number)` for a port number and `Err(..)` for anything else.",
        pt: "`if let Some(..) = value` olha dentro do `Option`; `parse::<u16>()` dá um `Result`, \
             `Ok(number)` para um número de porta e `Err(..)` para qualquer outra coisa.",
    },
    change: Text {
        en: "When value holds some text, parse that text as a u16; only when that parse is Ok, \
             put the number in port. In every other case port keeps the default it starts with.",
        pt: "Quando value tem um texto, faça o parse desse texto como u16; só quando o parse der \
             Ok, ponha o número em port. Em qualquer outro caso port fica com o padrão com que \
             começa.",
    },
};

/// Your turn 2: `port_from` asked with a port number, with nothing, and with text that is no
/// port, each drawn as the check runs.
pub fn port_from(port_from: impl Fn(Option<&str>, u16) -> u16) {
    let default = fastrand::u16(5000..6000);
    let port = fastrand::u16(1024..=65535);
    let port_text = port.to_string();
    let not_a_port = ["eighty", "70000", "-1", "80 80", ""][fastrand::usize(..5)];
    let mut checks = Checklist::exercise(&PORT_FROM);
    let cases = [
        (
            tr!(en: "a port number is used", pt: "um número de porta é usado"),
            Some(port_text.as_str()),
            port,
        ),
        (
            tr!(en: "no value gives the default", pt: "sem valor, vale o padrão"),
            None,
            default,
        ),
        (
            tr!(
                en: "text that is no port gives the default",
                pt: "um texto que não é porta dá o padrão",
            ),
            Some(not_a_port),
            default,
        ),
    ];
    for (what, value, expected) in cases {
        let asked = format!("port_from({value:?}, {default})");
        let answer = calling(&asked, || port_from(value, default));
        checks.check(
            what,
            answer.and_then(|answer| check::equal(&asked, answer, expected)),
        );
    }
    checks.finish();
}

pub const RETRIES: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-3",
    points: 2,
    title: Text {
        en: "Your turn 3: try again",
        pt: "Sua vez 3: tentar de novo",
    },
    section: Text {
        en: "Closures that may fail",
        pt: "Closures que podem falhar",
    },
    api: Text {
        en:
            "A `for` loop over `1..=attempts` gives each attempt's number; `tracer.in_span` runs a \
             closure in a span and gives back what it returned; `is_ok()` tells an `Ok`, and \
             `break` leaves the loop.",
        pt: "Um laço `for` sobre `1..=attempts` dá o número de cada tentativa; `tracer.in_span` \
             roda um closure em um span e devolve o que ele devolveu; `is_ok()` reconhece um `Ok`, \
             e `break` sai do laço.",
    },
    change: Text {
        en: "Loop over the attempt numbers. In each turn, call operation with the number inside a \
             span named attempt, keep what it returned in outcome, and leave the loop as soon as \
             that is an Ok.",
        pt: "Faça um laço sobre os números das tentativas. Em cada volta, chame operation com o \
             número dentro de um span chamado attempt, guarde o que ela devolveu em outcome e saia \
             do laço assim que isso for um Ok.",
    },
};

/// Your turn 3: `with_retries` asked with operations that fail a number of times drawn as the
/// check runs; it must stop at the first success, give up after its attempts, and make a span
/// `attempt` for each call.
pub fn retries(
    memory: &InMemorySpanExporter,
    with_retries: impl Fn(u32, &dyn Fn(u32) -> Result<String, String>) -> Result<String, String>,
) {
    let failures = fastrand::u32(1..=3);
    let give_up_after = fastrand::u32(2..=4);
    let cases = [
        (5, failures, Ok(format!("done on attempt {}", failures + 1))),
        (
            give_up_after,
            u32::MAX,
            Err(format!("busy ({give_up_after})")),
        ),
        (3, 0, Ok("done on attempt 1".to_owned())),
    ];
    let mut checks = Checklist::exercise(&RETRIES);
    for (attempts, fails, expected) in cases {
        let calls = Cell::new(0u32);
        let operation = |attempt: u32| {
            calls.set(calls.get() + 1);
            if attempt <= fails {
                Err(format!("busy ({attempt})"))
            } else {
                Ok(format!("done on attempt {attempt}"))
            }
        };
        let spans_before = count_attempt_spans(memory);
        let what = match fails {
            0 => tr!(
                en: format!("an operation that works at once, {attempts} attempts allowed"),
                pt: format!("uma operação que funciona de primeira, {attempts} tentativas permitidas"),
            ),
            u32::MAX => tr!(
                en: format!("an operation that always fails, {attempts} attempts allowed"),
                pt: format!("uma operação que sempre falha, {attempts} tentativas permitidas"),
            ),
            _ => tr!(
                en: format!(
                    "an operation that fails {fails} time(s), then works, {attempts} attempts \
                     allowed"
                ),
                pt: format!(
                    "uma operação que falha {fails} vez(es) e depois funciona, {attempts} \
                     tentativas permitidas"
                ),
            ),
        };
        let outcome = calling("with_retries", || with_retries(attempts, &operation));
        let expected_calls = match fails {
            u32::MAX => attempts,
            _ => fails + 1,
        };
        let spans_made = count_attempt_spans(memory).saturating_sub(spans_before);
        let calls = calls.get();
        let verdict = outcome.and_then(|outcome| {
            if calls < expected_calls && fails == u32::MAX {
                Err(CheckFailed(tr!(
                    en: format!(
                        "it was called {calls} time(s) of the {attempts} allowed, and gave up \
                         with {outcome:?}."
                    ),
                    pt: format!(
                        "ela foi chamada {calls} vez(es) das {attempts} permitidas, e desistiu \
                         com {outcome:?}."
                    ),
                )))
            } else if calls < expected_calls {
                Err(CheckFailed(tr!(
                    en: format!(
                        "it was called {calls} time(s) and gave up with {outcome:?}, though \
                         attempt {expected_calls} would have worked."
                    ),
                    pt: format!(
                        "ela foi chamada {calls} vez(es) e desistiu com {outcome:?}, embora a \
                         tentativa {expected_calls} fosse funcionar."
                    ),
                )))
            } else if calls > expected_calls && fails == u32::MAX {
                Err(CheckFailed(tr!(
                    en: format!("it was called {calls} times, more than the {attempts} allowed."),
                    pt: format!("ela foi chamada {calls} vezes, mais que as {attempts} permitidas."),
                )))
            } else if calls > expected_calls {
                Err(CheckFailed(tr!(
                    en: format!(
                        "it was called {calls} times: attempt {expected_calls} already worked, \
                         yet more attempts came after it."
                    ),
                    pt: format!(
                        "ela foi chamada {calls} vezes: a tentativa {expected_calls} já tinha \
                         funcionado, e ainda vieram mais tentativas depois dela."
                    ),
                )))
            } else if outcome != expected {
                Err(CheckFailed(tr!(
                    en: format!(
                        "with_retries returned {outcome:?}, but the last call returned \
                         {expected:?}."
                    ),
                    pt: format!(
                        "with_retries devolveu {outcome:?}, mas a última chamada devolveu \
                         {expected:?}."
                    ),
                )))
            } else if spans_made != calls as usize {
                Err(CheckFailed(tr!(
                    en: format!(
                        "{calls} call(s) left {spans_made} span(s) named \"attempt\" in the \
                         trace: a try that has no span of its own is invisible there."
                    ),
                    pt: format!(
                        "{calls} chamada(s) deixaram {spans_made} span(s) chamados \"attempt\" \
                         no trace: uma tentativa sem span próprio fica invisível ali."
                    ),
                )))
            } else {
                Ok(())
            }
        });
        checks.check(&what, verdict);
    }
    checks.finish();
}

fn count_attempt_spans(memory: &InMemorySpanExporter) -> usize {
    memory
        .get_finished_spans()
        .unwrap_or_default()
        .iter()
        .filter(|span| span.name == "attempt")
        .count()
}

pub const GUARD: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-4",
    points: 1,
    title: Text {
        en: "Your turn 4: make a span active",
        pt: "Sua vez 4: tornar um span ativo",
    },
    section: Text {
        en: "Guards and Drop",
        pt: "Guards e Drop",
    },
    api: Text {
        en: "`attach()` on a context makes it the active one and returns a guard; the context \
             stays active as long as the guard lives, in a variable whose name starts with `_` \
             but is not `_` alone.",
        pt: "`attach()` em um contexto o torna o ativo e devolve um guard; o contexto fica ativo \
             enquanto o guard viver, em uma variável cujo nome começa com `_` mas não é só `_`.",
    },
    change: Text {
        en: "At the start of the inner block, attach a clone of cx and keep the guard it returns \
             in a named variable until the block ends, so that guard_child starts while \
             guard_parent is active.",
        pt: "No começo do bloco interno, faça attach de um clone de cx e guarde o guard que ele \
             devolve em uma variável com nome até o fim do bloco, para que guard_child comece \
             enquanto guard_parent está ativo.",
    },
};

/// Your turn 4: `guard_child` is the child of `guard_parent`.
pub fn guard(memory: &InMemorySpanExporter) {
    let spans = finished(memory, SERVICE);
    let mut checks = Checklist::exercise(&GUARD);
    if let Some(parent) = checks.check(
        tr!(en: "guard_parent was made", pt: "guard_parent foi criado"),
        check::latest(&spans, "guard_parent"),
    ) {
        checks.check(
            tr!(
                en: "guard_child is guard_parent's child",
                pt: "guard_child é filho de guard_parent",
            ),
            check::child(&spans, parent, "guard_child"),
        );
    }
    checks.finish();
}

pub const SLOWEST: Exercise = Exercise {
    lesson: LESSON,
    id: "your-turn-5",
    points: 1,
    title: Text {
        en: "Your turn 5: the slowest job",
        pt: "Sua vez 5: o job mais lento",
    },
    section: Text {
        en: "Looking through spans",
        pt: "Percorrendo spans",
    },
    api: Text {
        en: "`job_spans.get_finished_spans()` gives this run's spans; `iter().max_by_key(..)` \
             finds the one with the largest key, here how long it lasted: `end_time` minus \
             `start_time`, through `duration_since`.",
        pt: "`job_spans.get_finished_spans()` dá os spans desta execução; \
             `iter().max_by_key(..)` acha o de maior chave, aqui quanto ele durou: `end_time` \
             menos `start_time`, com `duration_since`.",
    },
    change: Text {
        en: "Take the finished spans of job_spans, keep the one whose end minus start is the \
             largest, and put its name in slowest. Reading the waterfall and writing the name by \
             hand works too, for this run.",
        pt: "Pegue os spans terminados de job_spans, fique com aquele cujo fim menos início é o \
             maior e ponha o nome dele em slowest. Ler o waterfall e escrever o nome à mão também \
             vale, para esta execução.",
    },
};

/// The four jobs of Your turn 5, one after another inside a span `jobs`, each in a span of its
/// own, each lasting a time drawn now (all different).
pub fn run_jobs(tracer: &SdkTracer) {
    let mut millis: Vec<u64> = (2..=9).map(|n| n * 5).collect();
    fastrand::shuffle(&mut millis);
    tracer.in_span("jobs", |_cx| {
        for (name, ms) in ["job_a", "job_b", "job_c", "job_d"].into_iter().zip(millis) {
            tracer.in_span(name, |_cx| std::thread::sleep(Duration::from_millis(ms)));
        }
    });
}

/// Your turn 5: `slowest` names the job span of `job_spans` that lasted longest.
pub fn slowest(job_spans: &InMemorySpanExporter, slowest: &str) {
    let spans = finished(job_spans, SERVICE);
    let longest = spans
        .iter()
        .filter(|span| span.name.starts_with("job_"))
        .max_by_key(|span| span.duration_ns());
    let mut checks = Checklist::exercise(&SLOWEST);
    match longest {
        None => checks.check(
            tr!(en: "the jobs ran", pt: "os jobs rodaram"),
            Err::<(), _>(CheckFailed(
                tr!(
                    en: "job_spans holds no job span: run the cell of the exercise.",
                    pt: "job_spans não tem nenhum span de job: execute a célula do exercício.",
                )
                .to_owned(),
            )),
        ),
        Some(longest) => {
            let lasted = crate::model::human_duration(longest.duration_ns());
            let what = tr!(
                en: "slowest names the job that lasted longest",
                pt: "slowest dá o nome do job que durou mais",
            );
            let verdict = if slowest.is_empty() {
                Err(CheckFailed(
                    tr!(en: "slowest is empty.", pt: "slowest está vazio.").to_owned(),
                ))
            } else if let Some(named) = spans
                .iter()
                .find(|span| span.name == slowest && span.name.starts_with("job_"))
            {
                check::that(
                    named.name == longest.name,
                    tr!(
                        en: format!(
                            "{slowest:?} lasted {} in this run; another job lasted {lasted}.",
                            crate::model::human_duration(named.duration_ns())
                        ),
                        pt: format!(
                            "{slowest:?} durou {} nesta execução; outro job durou {lasted}.",
                            crate::model::human_duration(named.duration_ns())
                        ),
                    ),
                )
            } else if slowest == "jobs" {
                Err(CheckFailed(
                    tr!(
                        en: "\"jobs\" lasts longest, but it is the span that holds the four jobs, \
                             not a job.",
                        pt: "\"jobs\" dura mais, mas é o span que contém os quatro jobs, não um \
                             job.",
                    )
                    .to_owned(),
                ))
            } else {
                Err(CheckFailed(tr!(
                    en: format!("no job of this run is named {slowest:?}."),
                    pt: format!("nenhum job desta execução se chama {slowest:?}."),
                )))
            };
            checks.check(what, verdict)
        }
    };
    checks.finish();
}

/// The lesson's own check: the examples made their spans.
pub fn check_lesson(memory: &InMemorySpanExporter) {
    let spans = finished(memory, SERVICE);
    let mut checks = Checklist::new(
        tr!(
            en: "Notebook 00: Rust for this lab",
            pt: "Notebook 00: Rust para este lab",
        ),
        1,
    );
    for (name, what) in [
        (
            "from_a_thread",
            tr!(en: "a span made on another thread", pt: "um span criado em outra thread"),
        ),
        (
            "rust_primer_demo",
            tr!(
                en: "a span made through the trait methods",
                pt: "um span criado pelos métodos do trait",
            ),
        ),
        (
            "guard_demo",
            tr!(
                en: "a span made active by a guard",
                pt: "um span tornado ativo por um guard",
            ),
        ),
    ] {
        checks.check(what, check::latest(&spans, name).map(|_| ()));
    }
    checks.finish();
}
