//! The unit tests of `check`: each check's verdict and message, the reports' form, the scores.

use super::*;
use crate::exercise::tests::EXAMPLE;

/// Why `outcome` failed.
fn why<T: std::fmt::Debug>(outcome: Result<T, CheckFailed>) -> String {
    outcome.unwrap_err().0
}

/// Every message of this module, each made to fail once.
fn every_message() -> Vec<String> {
    let spans = [
        span("b", "t1", Some("a"), "child"),
        span("a", "t1", None, "parent"),
        span("c", "t2", Some("x"), "stray"),
        span("d", "t1", Some("b"), "grandchild"),
    ];
    let [child_span, parent_span, stray, grandchild] = &spans;
    let twice = [
        span("a", "t1", None, "twice"),
        span("b", "t1", None, "twice"),
    ];
    let mut messages = vec![
        why(find(&spans, "missing")),
        why(find(&twice, "twice")),
        why(latest(&spans, "missing")),
        why(child(&spans, child_span, "parent")),
        why(child(&spans, parent_span, "grandchild")),
        why(child(&spans, parent_span, "stray")),
        why(count(&spans, 9)),
        why(count(&spans, 1)),
        why(parent(stray, parent_span)),
        why(parent(parent_span, child_span)),
        why(same_trace(stray, grandchild)),
        why(trace_count(&spans, 1)),
        why(attribute(parent_span, "http.route", "/other")),
        why(attribute(parent_span, "missing", "x")),
        why(follows_parent(&opentelemetry_sdk::trace::Sampler::AlwaysOn)),
        why(equal("the answer", 41, 42)),
    ];
    messages.push(names(&[]));
    messages.push(names(
        &(0..12)
            .map(|n| span("s", "t", None, &n.to_string()))
            .collect::<Vec<_>>(),
    ));
    let mut exercise = Checklist::exercise(&EXAMPLE);
    exercise.check("one", count(&spans, 9));
    exercise.check("two", count(&spans, 4));
    exercise.skipped("three");
    exercise.skip("four", "no Jaeger");
    messages.push(exercise.report_at(1));
    messages.push(exercise.report_at(2));
    messages.push(exercise.report_at(3));
    let mut passed = Checklist::exercise(&EXAMPLE);
    passed.check("one", count(&spans, 4));
    messages.push(passed.report());
    let mut one_failed = Checklist::new("Notebook", 1);
    one_failed.check("one", count(&spans, 9));
    messages.push(one_failed.report());
    messages.push(
        std::panic::catch_unwind(|| one_failed.finish())
            .unwrap_err()
            .downcast::<String>()
            .map(|message| *message)
            .unwrap(),
    );
    messages
}

#[test]
fn every_message_is_written_in_english_and_in_portuguese() {
    let portuguese = crate::lang::assert_translated(
        every_message,
        &[" was ", " expected", " not ", "checks", "Hint", "Well done"],
    );
    let all_pt = portuguese.join("\n");
    assert!(all_pt.contains("\nDica 1 de 3: "), "{all_pt}");
    assert!(all_pt.contains("\nDica 2 de 3: A API a usar."), "{all_pt}");
}

fn span(id: &str, trace: &str, parent: Option<&str>, name: &str) -> TraceSpan {
    TraceSpan {
        trace_id: trace.into(),
        span_id: id.into(),
        parent_id: parent.map(str::to_owned),
        name: name.into(),
        service: "example".into(),
        scope: "example".into(),
        kind: crate::model::Kind::Internal,
        start_ns: 0,
        end_ns: 1,
        error: None,
        attributes: vec![("http.route".into(), "/".into())],
        events: vec![],
    }
}

#[test]
fn nested_spans_pass() {
    let spans = [
        span("b", "t1", Some("a"), "test_span_02"),
        span("a", "t1", None, "test_span_01"),
    ];
    let mut checks = Checklist::new("Exercise 1", 1);
    let outer = checks.check("outer span", find(&spans, "test_span_01"));
    let inner = checks.check("inner span", find(&spans, "test_span_02"));
    checks.check("two spans", count(&spans, 2));
    checks.check("nested", parent(inner.unwrap(), outer.unwrap()));
    assert!(checks.passed(), "{}", checks.report());
    assert!(checks.report().ends_with("All 4 checks passed."));
    checks.finish();
}

#[test]
fn failures_say_what_is_wrong() {
    let spans = [
        span("b", "t2", None, "test_span_02"),
        span("a", "t1", None, "test_span_01"),
    ];
    let missing = find(&spans, "test_span_03").unwrap_err().0;
    assert!(
        missing.contains("no span named \"test_span_03\""),
        "{missing}"
    );
    assert!(
        missing.contains("\"test_span_02\", \"test_span_01\""),
        "{missing}"
    );
    let not_nested = parent(&spans[0], &spans[1]).unwrap_err().0;
    assert!(
        not_nested.contains("should share one trace id"),
        "{not_nested}"
    );
    let same_trace_root = parent(
        &span("b", "t1", None, "inner"),
        &span("a", "t1", None, "outer"),
    )
    .unwrap_err()
    .0;
    assert!(
        same_trace_root.contains("is a root span"),
        "{same_trace_root}"
    );
    let too_few = count(&spans[..1], 2).unwrap_err().0;
    assert!(too_few.contains("did every span end"), "{too_few}");
    assert!(trace_count(&spans, 1)
        .unwrap_err()
        .0
        .contains("2 trace(s), 1 expected"));
    assert!(attribute(&spans[0], "http.route", "/x")
        .unwrap_err()
        .0
        .contains("expected \"/x\""));
}

#[test]
fn an_exercise_that_fails_gives_its_next_hint_and_does_not_panic() {
    let example = Exercise {
        lesson: "97-fails",
        ..EXAMPLE
    };
    let run = || {
        let mut checks = Checklist::exercise(&example);
        checks.check("a span named test_span_03", find(&[], "test_span_03"));
        let report = checks.report();
        assert_eq!(checks.score(), 0);
        checks.finish();
        report
    };
    let first = run();
    assert!(
        first.starts_with("Your turn 1: an example\n  ✘ a span named test_span_03: no span named"),
        "{first}"
    );
    assert!(
        first.contains("The check failed.\nHint 1 of 3: start from the first ✘ above: it is what your code produced."),
        "{first}"
    );
    assert!(run().contains("\nHint 2 of 3: The API to use."));
    assert!(run().contains("\nHint 3 of 3: The change, in words."));
    assert!(run().contains("\nHint 3 of 3: The change, in words."));
    let mut passing = Checklist::exercise(&example);
    passing.check("it is done", that(true, "not done"));
    passing.finish();
    assert!(
        run().contains("\nHint 1 of 3: "),
        "a pass starts the hints over"
    );
}

#[test]
fn an_exercise_that_passes_says_so() {
    let mut checks = Checklist::exercise(&EXAMPLE);
    checks.check("it is done", that(true, "not done"));
    checks.check("1 + 1", equal("1 + 1", 1 + 1, 2));
    assert!(checks.report().ends_with("All 2 checks passed. Well done!"));
    assert_eq!(checks.score(), 2, "nbgrader gets the cell's points");
    assert!(!checks.report().contains("Hint"));
    checks.skip("Jaeger has it", "no Jaeger here");
    assert!(checks
        .report()
        .contains("  – Jaeger has it: not checked, no Jaeger here\nAll 2 checks passed."));
}

#[test]
fn latest_and_child_follow_the_last_run_of_a_cell() {
    let mut first = span("a", "t1", None, "test_span_02");
    first.start_ns = 0;
    let mut again = span("b", "t2", None, "test_span_02");
    again.start_ns = 10;
    let mut nested = span("c", "t2", Some("b"), "test_span_03");
    nested.start_ns = 11;
    let spans = [first, again, nested];
    let outer = latest(&spans, "test_span_02").unwrap();
    assert_eq!(outer.span_id, "b");
    assert_eq!(child(&spans, outer, "test_span_03").unwrap().span_id, "c");
    let wrong = child(&spans, &spans[0], "test_span_03").unwrap_err().0;
    assert!(
        wrong.contains("inside another \"test_span_02\" span (span id b)"),
        "{wrong}"
    );
    let root = [span("r", "t3", None, "test_span_03"), spans[1].clone()];
    let message = child(&root, &root[1], "test_span_03").unwrap_err().0;
    assert!(
        message.contains("\"test_span_03\" is a root span"),
        "{message}"
    );
    let grandchild = [
        spans[1].clone(),
        span("m", "t2", Some("b"), "middle"),
        span("g", "t2", Some("m"), "test_span_03"),
    ];
    let message = child(&grandchild, &grandchild[0], "test_span_03")
        .unwrap_err()
        .0;
    assert!(message.contains("is inside \"middle\""), "{message}");
    assert!(latest(&[], "x").unwrap_err().0.contains("captured: none"));
    let many: Vec<TraceSpan> = (0..30)
        .map(|n| span(&n.to_string(), "t", None, &format!("s{}", n % 12)))
        .collect();
    let listed = latest(&many, "x").unwrap_err().0;
    assert!(listed.contains("\"s0\", \"s1\""), "{listed}");
    assert!(listed.contains("\"s9\" and 2 more)"), "{listed}");
}

#[test]
fn a_parent_based_sampler_follows_its_caller_and_a_ratio_alone_does_not() {
    use opentelemetry_sdk::trace::Sampler;
    let parent_based = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(0.1)));
    assert_eq!(follows_parent(&parent_based), Ok(()));
    let ratio_alone = follows_parent(&Sampler::TraceIdRatioBased(0.1))
        .unwrap_err()
        .0;
    assert!(
        ratio_alone.contains("sampled=true, the sampler decided Drop"),
        "{ratio_alone}"
    );
    let always_on = follows_parent(&Sampler::AlwaysOn).unwrap_err().0;
    assert!(
        always_on.contains("sampled=false, the sampler decided RecordAndSample"),
        "{always_on}"
    );
}

#[test]
fn generic_checks_name_the_value() {
    assert_eq!(
        equal("double(21)", 40, 42).unwrap_err().0,
        "double(21) is 40, expected 42."
    );
    assert_eq!(that(false, "no").unwrap_err().0, "no");
}

#[test]
#[should_panic(expected = "Exercise 1: 1 check(s) failed")]
fn a_failed_check_fails_the_cell() {
    let mut checks = Checklist::new("Exercise 1", 1);
    checks.check("two spans", count(&[], 2));
    checks.finish();
}
