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

use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{TraceContextExt, TraceFlags};
use opentelemetry::Context;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

/// The header of W3C Trace Context that carries the trace id, parent id and flags.
pub const TRACEPARENT: &str = "traceparent";

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
    /// missing or not what the specification allows (then `tracestate` is ignored too).
    pub fn extract(&self, headers: &dyn Extractor) -> Context {
        self.propagator.extract(&Checked(headers))
    }

    /// Writes `cx`'s trace context and baggage into `headers`.
    pub fn inject(&self, cx: &Context, headers: &mut dyn Injector) {
        self.propagator.inject_context(cx, headers);
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

/// Hides a `traceparent` that breaks the specification's grammar.
struct Checked<'a>(&'a dyn Extractor);

impl Extractor for Checked<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        let value = self.0.get(key)?;
        if key.eq_ignore_ascii_case(TRACEPARENT) {
            // Two `traceparent` headers are as invalid as a malformed one.
            let headers = self.0.keys();
            let count = headers
                .iter()
                .filter(|name| name.eq_ignore_ascii_case(TRACEPARENT))
                .count();
            if count > 1 || !is_valid_traceparent(value) {
                return None;
            }
        }
        Some(value)
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
}
