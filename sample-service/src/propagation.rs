//! How trace context and baggage cross the service's edges: one composite propagator (W3C Trace
//! Context and W3C Baggage), built once and shared by the server layer, which extracts from
//! requests, and by `GET /chain`, which injects into its call.
//!
//! The SDK's `TraceContextPropagator` (0.33) continues traces from some `traceparent` values the
//! W3C Trace Context specification rejects (`00-1-1-01`, ids with a `+` sign, a 3-digit version,
//! a trailing `-`): it parses the fields leniently. A caller that sends such a header must start
//! a new trace instead, so [`Propagation::extract`] shows the propagator a `traceparent` only
//! when it follows the specification's grammar, checked by [`is_valid_traceparent`]. No
//! maintained crate checks that grammar, hence this small function.
//!
//! `tracestate` gets the same treatment. The SDK's `TraceState` (opentelemetry 0.33.1) keeps the
//! first 32 members of a longer list, where the specification (Level 2) discards the whole list,
//! and lets through keys and values its grammar forbids: an empty value (`foo=`), an empty key
//! (`=1`), a `=` right after the first (`foo==1`), characters outside printable ASCII. So
//! [`Propagation::extract`] shows the propagator a `tracestate` only when [`check_tracestate`]
//! finds it follows Level 2's grammar; otherwise the trace goes on without it. No maintained
//! crate checks that grammar either (crates.io's `trace-context` reads `traceparent` only), hence
//! this second small function. The reverse, a valid key the SDK refuses (a second `@`, more than
//! 13 characters after an `@`), the SDK decides in `TraceState::valid_key`
//! (opentelemetry-0.33.1/src/trace/span_context.rs:41), and its propagator then drops the whole
//! list (opentelemetry_sdk-0.33.1/src/propagation/trace_context.rs:108); nothing short of
//! replacing the propagator changes that, so the service lives with it.
//!
//! Several `tracestate` headers are one list and a repeated `traceparent` is invalid: the
//! extractor, which sees every header of the request, takes care of both (see
//! `http_tracing::RequestHeaders`).

use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{TraceContextExt, TraceFlags};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

/// The header of W3C Trace Context that carries the trace id, parent id and flags.
pub const TRACEPARENT: &str = "traceparent";

/// The header of W3C Trace Context that carries the tracing systems' own list of key=value.
pub const TRACESTATE: &str = "tracestate";

/// The most list-members a `tracestate` may hold
/// (<https://www.w3.org/TR/trace-context-2/#tracestate-header-field-values>).
const MAX_LIST_MEMBERS: usize = 32;

/// The longest `tracestate` key, and the longest value, in characters.
const MAX_KEY_OR_VALUE_LEN: usize = 256;

/// The service's propagator: trace context and baggage, in and out.
pub struct Propagation {
    propagator: TextMapCompositePropagator,
}

impl Default for Propagation {
    fn default() -> Self {
        Propagation::new()
    }
}

impl Propagation {
    pub fn new() -> Propagation {
        Propagation {
            propagator: TextMapCompositePropagator::new(vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ]),
        }
    }

    /// The caller's context and baggage from `headers`; an empty context when `traceparent` is
    /// missing or not what the specification allows (then `tracestate` is ignored too), and no
    /// `tracestate` in it when that header is not what the specification allows.
    pub fn extract(&self, headers: &dyn Extractor) -> Context {
        self.propagator.extract(&Checked(headers))
    }

    /// Writes `cx`'s trace context and baggage into `headers`, without an empty `tracestate`.
    pub fn inject(&self, cx: &Context, headers: &mut dyn Injector) {
        self.propagator
            .inject_context(cx, &mut WithoutEmptyTracestate(headers));
    }
}

/// Passes every header on but an empty `tracestate`: the SDK's propagator writes `tracestate`
/// even when the list is empty (opentelemetry_sdk-0.33.1/src/propagation/trace_context.rs:140),
/// and the specification asks not to send an empty one
/// (<https://www.w3.org/TR/trace-context-2/#tracestate-header-field-values>).
struct WithoutEmptyTracestate<'a>(&'a mut dyn Injector);

impl Injector for WithoutEmptyTracestate<'_> {
    fn set(&mut self, key: &str, value: String) {
        if value.is_empty() && key.eq_ignore_ascii_case(TRACESTATE) {
            return;
        }
        self.0.set(key, value);
    }
}

/// `cx`'s span context in `traceparent` format, when it has a valid one: the value
/// `TraceContextPropagator` writes (version `00`, only the sampled flag), for a `traceresponse`.
///
/// Every traced response carries one, and the propagator builds it with `format!` through
/// `Display` (about 2,600 instructions, a sixth of the tracing layer's work), so it is written
/// here into a fixed buffer with a maintained hex encoder; a test compares the two.
pub fn traceparent(cx: &Context) -> Option<String> {
    let span = cx.span();
    let context = span.span_context();
    if !context.is_valid() {
        return None;
    }
    let flags = context.trace_flags() & TraceFlags::SAMPLED;
    let mut value = *b"00-00000000000000000000000000000000-0000000000000000-00";
    const_hex::encode_to_slice(context.trace_id().to_bytes(), &mut value[3..35]).ok()?;
    const_hex::encode_to_slice(context.span_id().to_bytes(), &mut value[36..52]).ok()?;
    const_hex::encode_to_slice([flags.to_u8()], &mut value[53..55]).ok()?;
    String::from_utf8(value.to_vec()).ok()
}

/// Hides a `traceparent` or a `tracestate` that breaks the specification's grammar. Several
/// headers of one name are the extractor's to handle: the `Extractor` trait shows them only
/// through `keys`, which allocates on every request.
struct Checked<'a>(&'a dyn Extractor);

impl Extractor for Checked<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = self.0.get(key)?;
        let valid = if key.eq_ignore_ascii_case(TRACEPARENT) {
            is_valid_traceparent(value)
        } else if key.eq_ignore_ascii_case(TRACESTATE) {
            check_tracestate(value).is_ok()
        } else {
            true
        };
        valid.then_some(value)
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys()
    }
}

/// Whether `value` is a `traceparent` W3C Trace Context accepts
/// (<https://www.w3.org/TR/trace-context/#traceparent-header>): `version-traceid-parentid-flags`
/// in lowercase hex, 2-32-16-2 digits, the version not `ff`, neither id all zeros. Version `00`
/// is exactly that; a later version may carry more after the flags, following a `-`. Spaces and
/// tabs around the value are HTTP's, not part of it, and are ignored; any other character is not.
pub fn is_valid_traceparent(value: &str) -> bool {
    let bytes = value.trim_matches([' ', '\t']).as_bytes();
    let lower_hex = |field: &[u8]| {
        field
            .iter()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte))
    };
    let not_zero = |field: &[u8]| field.iter().any(|byte| *byte != b'0');
    if bytes.len() < 55 {
        return false;
    }
    let (version, trace_id, parent_id, flags) =
        (&bytes[0..2], &bytes[3..35], &bytes[36..52], &bytes[53..55]);
    let dashes = bytes[2] == b'-' && bytes[35] == b'-' && bytes[52] == b'-';
    let fields = lower_hex(version)
        && version != b"ff"
        && lower_hex(trace_id)
        && not_zero(trace_id)
        && lower_hex(parent_id)
        && not_zero(parent_id)
        && lower_hex(flags);
    let rest = if version == b"00" {
        bytes.len() == 55
    } else {
        bytes.len() == 55 || bytes[55] == b'-'
    };
    dashes && fields && rest
}

/// Why a `tracestate` breaks the grammar of W3C Trace Context Level 2. `member` counts the
/// list's members from 1, empty ones left out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTraceState {
    #[error("tracestate has more than {MAX_LIST_MEMBERS} list-members")]
    TooManyMembers,
    #[error("tracestate list-member {member} has no `=`")]
    NoEquals { member: usize },
    #[error("tracestate list-member {member} has a key outside the grammar")]
    Key { member: usize },
    #[error("tracestate list-member {member} has a value outside the grammar")]
    Value { member: usize },
}

/// Checks `value` against the `tracestate` grammar of W3C Trace Context Level 2
/// (<https://www.w3.org/TR/trace-context-2/#tracestate-header-field-values>): a list of at most
/// 32 `key=value` members separated by `,`; spaces and tabs around a member, and empty members,
/// are allowed and not counted. Repeated keys are allowed too: the specification lets a vendor
/// pass them on. An empty `value` is an empty list, and valid.
pub fn check_tracestate(value: &str) -> Result<(), InvalidTraceState> {
    let members = value
        .split(',')
        .map(|member| member.trim_matches([' ', '\t']))
        .filter(|member| !member.is_empty());
    for (index, member) in members.enumerate() {
        let number = index + 1;
        if number > MAX_LIST_MEMBERS {
            return Err(InvalidTraceState::TooManyMembers);
        }
        let (key, value) = member
            .split_once('=')
            .ok_or(InvalidTraceState::NoEquals { member: number })?;
        if !is_valid_key(key) {
            return Err(InvalidTraceState::Key { member: number });
        }
        if !is_valid_value(value) {
            return Err(InvalidTraceState::Value { member: number });
        }
    }
    Ok(())
}

/// Level 2's `key = ( lcalpha / DIGIT ) 0*255 ( keychar )`, where `keychar` is a lowercase
/// letter, a digit, or one of `_ - * / @`: 1 to 256 characters, `@` anywhere but first, as often
/// as it likes (Level 1's single `@` with at most 13 characters after it is gone).
fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    let Some((first, rest)) = bytes.split_first() else {
        return false;
    };
    bytes.len() <= MAX_KEY_OR_VALUE_LEN
        && (first.is_ascii_lowercase() || first.is_ascii_digit())
        && rest.iter().all(|byte| {
            byte.is_ascii_lowercase()
                || byte.is_ascii_digit()
                || matches!(byte, b'_' | b'-' | b'*' | b'/' | b'@')
        })
}

/// Level 2's `value = 0*255(chr) nblk-chr`: 1 to 256 characters of printable ASCII (0x20 to
/// 0x7E) but `,` and `=`, the last not a space.
fn is_valid_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let Some(last) = bytes.last() else {
        return false;
    };
    bytes.len() <= MAX_KEY_OR_VALUE_LEN
        && *last != b' '
        && bytes
            .iter()
            .all(|byte| (0x20..=0x7e).contains(byte) && *byte != b',' && *byte != b'=')
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::baggage::BaggageExt;
    use opentelemetry::trace::TraceContextExt;
    use std::collections::HashMap;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_specifications_example_and_future_versions_are_valid() {
        assert!(is_valid_traceparent(VALID));
        assert!(is_valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        ));
        // The W3C test suite's valid values (test/test.py): later versions, and HTTP's spaces and
        // tabs around the value.
        for value in [
            "cc-12345678901234567890123456789012-1234567890123456-01",
            "cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
            " 00-12345678901234567890123456789012-1234567890123456-01",
            "\t00-12345678901234567890123456789012-1234567890123456-01",
            "00-12345678901234567890123456789012-1234567890123456-01 ",
            "00-12345678901234567890123456789012-1234567890123456-01\t",
            "\t 00-12345678901234567890123456789012-1234567890123456-01 \t",
        ] {
            assert!(is_valid_traceparent(value), "{value:?} must be accepted");
        }
    }

    #[test]
    fn the_w3c_test_suites_invalid_values_and_what_the_sdk_let_through_are_refused() {
        for value in [
            // W3C trace-context test suite, test/test.py, test_traceparent_*.
            "00-12345678901234567890123456789012-1234567890123456-01.",
            "00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like",
            "cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like",
            "ff-12345678901234567890123456789012-1234567890123456-01",
            ".0-12345678901234567890123456789012-1234567890123456-01",
            "0.-12345678901234567890123456789012-1234567890123456-01",
            "000-12345678901234567890123456789012-1234567890123456-01",
            "0000-12345678901234567890123456789012-1234567890123456-01",
            "0-12345678901234567890123456789012-1234567890123456-01",
            "00-00000000000000000000000000000000-1234567890123456-01",
            "00-.2345678901234567890123456789012-1234567890123456-01",
            "00-1234567890123456789012345678901.-1234567890123456-01",
            "00-123456789012345678901234567890123-1234567890123456-01",
            "00-1234567890123456789012345678901-1234567890123456-01",
            "00-12345678901234567890123456789012-0000000000000000-01",
            "00-12345678901234567890123456789012-.234567890123456-01",
            "00-12345678901234567890123456789012-123456789012345.-01",
            "00-12345678901234567890123456789012-12345678901234567-01",
            "00-12345678901234567890123456789012-123456789012345-01",
            "00-12345678901234567890123456789012-1234567890123456-.0",
            "00-12345678901234567890123456789012-1234567890123456-0.",
            "00-12345678901234567890123456789012-1234567890123456-001",
            "00-12345678901234567890123456789012-1234567890123456-1",
            // Found by fuzzing the SDK's propagator (0.33.1), which continued these traces.
            "00-1-1-01",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-+0f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
            "\u{a0}00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\n",
            "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0ü",
        ] {
            assert!(!is_valid_traceparent(value), "{value:?} must be refused");
        }
    }

    struct Headers(HashMap<String, String>);

    impl Extractor for Headers {
        fn get(&self, key: &str) -> Option<&str> {
            self.0.get(key).map(String::as_str)
        }
        fn keys(&self) -> Vec<&str> {
            self.0.keys().map(String::as_str).collect()
        }
    }

    impl Injector for Headers {
        fn set(&mut self, key: &str, value: String) {
            self.0.insert(key.to_owned(), value);
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        Headers(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn trace_context_and_baggage_go_through_and_come_back() {
        let propagation = Propagation::new();
        let incoming = headers(&[
            ("traceparent", VALID),
            ("tracestate", "lab=1"),
            ("baggage", "lab.student=ada"),
        ]);
        let cx = propagation.extract(&incoming);
        assert!(cx.span().span_context().is_valid());
        assert_eq!(
            cx.baggage().get("lab.student").map(|v| v.to_string()),
            Some("ada".into())
        );
        let mut outgoing = headers(&[]);
        propagation.inject(&cx, &mut outgoing);
        assert_eq!(
            outgoing.0.get("traceparent").map(String::as_str),
            Some(VALID)
        );
        assert_eq!(
            outgoing.0.get("tracestate").map(String::as_str),
            Some("lab=1")
        );
        assert_eq!(
            outgoing.0.get("baggage").map(String::as_str),
            Some("lab.student=ada")
        );
        assert_eq!(traceparent(&cx).as_deref(), Some(VALID));
    }

    #[test]
    fn traceparent_writes_what_the_propagator_writes() {
        use opentelemetry::trace::{SpanContext, SpanId, TraceId, TraceState};
        let propagator = TraceContextPropagator::new();
        for flags in [
            TraceFlags::SAMPLED,
            TraceFlags::NOT_SAMPLED,
            TraceFlags::new(0xff),
        ] {
            for (trace, span) in [
                (
                    0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128,
                    0x00f0_67aa_0ba9_02b7_u64,
                ),
                (1, u64::MAX),
                (u128::MAX, 1),
            ] {
                let cx = Context::new().with_remote_span_context(SpanContext::new(
                    TraceId::from(trace),
                    SpanId::from(span),
                    flags,
                    true,
                    TraceState::default(),
                ));
                let mut expected = headers(&[]);
                propagator.inject_context(&cx, &mut expected);
                assert_eq!(traceparent(&cx).as_ref(), expected.0.get("traceparent"));
            }
        }
        assert_eq!(traceparent(&Context::new()), None, "no span, no value");
    }

    #[test]
    fn an_invalid_traceparent_starts_a_new_trace_and_drops_tracestate() {
        let propagation = Propagation::new();
        let cx = propagation.extract(&headers(&[
            ("traceparent", "00-1-1-01"),
            ("tracestate", "lab=1"),
            ("baggage", "lab.student=ada"),
        ]));
        assert!(!cx.span().span_context().is_valid());
        assert_eq!(cx.span().span_context().trace_state().header(), "");
        // Baggage is its own header, with its own rules.
        assert_eq!(
            cx.baggage().get("lab.student").map(|v| v.to_string()),
            Some("ada".into())
        );
    }

    /// test.py of the W3C test suite (github.com/w3c/trace-context, test/test.py): the lists its
    /// test_tracestate_* cases expect to be kept, and the keys Level 2 allows that the SDK refuses.
    #[test]
    fn the_w3c_test_suites_valid_tracestates_pass_the_check() {
        let key = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
        let value: String = (0x20u8..=0x7e)
            .filter(|byte| *byte != b',' && *byte != b'=')
            .map(char::from)
            .collect();
        let members: Vec<String> = (1..=32).map(|n| format!("bar{n:02}={n:02}")).collect();
        for list in [
            "".to_owned(),
            "foo=1,bar=2".to_owned(),
            "foo=1 \t , \t bar=2, \t baz=3".to_owned(),
            "\t foo=1 \t".to_owned(),
            "foo=1,foo=2".to_owned(),
            "foo=1,,bar=2".to_owned(),
            format!("{key}={value}"),
            format!("{key}@a-z0-9_-*/={value}"),
            format!("foo=1,{}=1", "z".repeat(256)),
            format!("foo=1,{}@{}=1", "t".repeat(241), "v".repeat(14)),
            format!("foo=1,{}@v=1", "t".repeat(242)),
            format!("foo=1,t@{}=1", "v".repeat(15)),
            "foo@=1,bar=2".to_owned(),
            "foo@@bar=1,bar=2".to_owned(),
            "foo@bar@baz=1,bar=2".to_owned(),
            "1foo=1".to_owned(),
            format!("foo={}", "v".repeat(256)),
            members.join(","),
        ] {
            assert_eq!(check_tracestate(&list), Ok(()), "{list:?} must pass");
        }
    }

    #[test]
    fn invalid_tracestates_fail_the_check_with_their_reason() {
        use InvalidTraceState::{Key, NoEquals, TooManyMembers, Value};
        let members: Vec<String> = (1..=33).map(|n| format!("bar{n:02}={n:02}")).collect();
        for (list, reason) in [
            // W3C trace-context test suite, test/test.py, test_tracestate_*.
            (members.join(","), TooManyMembers),
            (format!("foo=1,{}=1", "z".repeat(257)), Key { member: 2 }),
            ("foo =1".to_owned(), Key { member: 1 }),
            ("FOO=1".to_owned(), Key { member: 1 }),
            ("foo.bar=1".to_owned(), Key { member: 1 }),
            ("@foo=1,bar=2".to_owned(), Key { member: 1 }),
            ("foo=bar=baz".to_owned(), Value { member: 1 }),
            ("foo=,bar=3".to_owned(), Value { member: 1 }),
            // What the SDK's TraceState (0.33.1) lets through.
            ("=1".to_owned(), Key { member: 1 }),
            ("foo==1".to_owned(), Value { member: 1 }),
            ("foo=a\tb".to_owned(), Value { member: 1 }),
            ("foo=\u{7f}".to_owned(), Value { member: 1 }),
            ("foo=ü".to_owned(), Value { member: 1 }),
            (format!("foo={}", "v".repeat(257)), Value { member: 1 }),
            // Neither grammar allows these.
            ("foo".to_owned(), NoEquals { member: 1 }),
            ("foo=1,,bar".to_owned(), NoEquals { member: 2 }),
            ("_foo=1".to_owned(), Key { member: 1 }),
        ] {
            assert_eq!(check_tracestate(&list), Err(reason), "{list:?}");
        }
    }

    #[test]
    fn an_invalid_tracestate_is_dropped_whole_and_the_trace_goes_on() {
        let propagation = Propagation::new();
        let over: Vec<String> = (1..=33).map(|n| format!("bar{n:02}={n:02}")).collect();
        for tracestate in ["foo=,bar=3".to_owned(), "=1".to_owned(), over.join(",")] {
            let cx = propagation.extract(&headers(&[
                ("traceparent", VALID),
                ("tracestate", &tracestate),
            ]));
            let span = cx.span();
            assert!(span.span_context().is_valid(), "{tracestate:?}");
            assert_eq!(span.span_context().trace_state().header(), "");
        }
    }

    #[test]
    fn an_empty_tracestate_is_not_written() {
        let propagation = Propagation::new();
        let cx = propagation.extract(&headers(&[("traceparent", VALID)]));
        let mut outgoing = headers(&[]);
        propagation.inject(&cx, &mut outgoing);
        assert_eq!(
            outgoing.0.get("traceparent").map(String::as_str),
            Some(VALID)
        );
        assert!(!outgoing.0.contains_key("tracestate"), "{:?}", outgoing.0);
    }

    /// What the service cannot correct short of replacing the SDK's propagator, and what
    /// [`check_tracestate`] corrects: the README cites these lines of opentelemetry 0.33.1.
    #[test]
    fn the_sdks_trace_state_refuses_keys_level_2_allows_and_takes_lists_it_forbids() {
        use opentelemetry::trace::TraceState;
        use std::str::FromStr;
        // src/trace/span_context.rs:41, a second `@` or more than 13 characters after it.
        for refused in [
            "foo@@bar=1,bar=2".to_owned(),
            "foo@bar@baz=1,bar=2".to_owned(),
            format!("{}@{}=1", "t".repeat(241), "v".repeat(14)),
            format!("t@{}=1", "v".repeat(15)),
        ] {
            assert_eq!(check_tracestate(&refused), Ok(()), "{refused:?}");
            assert!(TraceState::from_str(&refused).is_err(), "{refused:?}");
        }
        // src/trace/span_context.rs:212, the members past the 32nd left out unread.
        let over: Vec<String> = (1..=33).map(|n| format!("bar{n:02}={n:02}")).collect();
        let kept = TraceState::from_str(&over.join(","))
            .map(|state| state.header())
            .ok();
        assert_eq!(kept, Some(over[..32].join(",")));
        // src/trace/span_context.rs:26-64, empty keys and values, `foo==1`, any character but
        // `,` and `=` in a value.
        for taken in ["foo=,bar=3", "=1", "foo==1", "foo=a\tb", "foo=ü"] {
            assert!(check_tracestate(taken).is_err(), "{taken:?}");
            assert!(TraceState::from_str(taken).is_ok(), "{taken:?}");
        }
    }
}
