//! What the router hands back when a request matched one of its routes: a plain value, the
//! route's template, that the tracing layer reads (`http.route`, the span name) without the
//! router knowing anything of spans.

/// A route the server matched: its template (`/users/{id}`, not `/users/42`), as `http.route`
/// wants it, and what a `GET` to it is called (`GET /users/{id}`, the span name the tracing layer
/// gives it), written out by the router with [`matched_route!`](macro@crate::matched_route) so
/// that the common case formats nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatchedRoute {
    pub template: &'static str,
    pub get_span_name: &'static str,
}

/// The [`MatchedRoute`] of `$template`, its `GET` span name joined at compile time.
#[macro_export]
macro_rules! matched_route {
    ($template:literal) => {
        $crate::matched_route::MatchedRoute {
            template: $template,
            get_span_name: concat!("GET ", $template),
        }
    };
}
