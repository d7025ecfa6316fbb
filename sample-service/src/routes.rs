//! The service's routes: plain handlers that know nothing of HTTP spans.
//!
//! The only tracing a handler does is its own: `GET /` opens the manual child span `test_span`,
//! as the original Flask lab's `hello()` did. The SERVER span around it comes from
//! [`crate::http_tracing`].

use opentelemetry::trace::Tracer;
use rouille::{Request, Response};

use crate::config::variables::DOWNSTREAM_URL;
use crate::downstream::{CallError, Downstream};
use crate::matched_route;
use crate::matched_route::MatchedRoute;
use crate::order::{Calls, Orders};
use crate::telemetry::SharedTracer;

/// What `GET /` answers, word for word the original lab's greeting (trailing space included).
pub const GREETING: &str = "SRE and DevOps work together!!! ";
/// The name of the manual span `GET /` opens inside its SERVER span.
pub const MANUAL_SPAN: &str = "test_span";

/// A route the service knows, matched on the path alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/`: the greeting, with a manual child span.
    Hello,
    /// `/healthz`: for container and load-balancer health checks.
    Health,
    /// `/chain`: calls the downstream service, so one trace crosses two services.
    Chain,
    /// `/order`: several steps, each a span, with a slow part to find (notebook 06).
    Order,
}

impl Route {
    /// The route for `request`'s path, if any.
    pub fn find(request: &Request) -> Option<Route> {
        let raw_path = request.raw_url().split('?').next().unwrap_or_default();
        if raw_path.contains('%') {
            // Percent-encoded (`/%68ealthz`): decoded, as rouille's own router matches it.
            Route::of_path(&request.url())
        } else {
            Route::of_path(raw_path) // the common case, which needs no copy
        }
    }

    fn of_path(path: &str) -> Option<Route> {
        match path {
            "/" => Some(Route::Hello),
            "/healthz" => Some(Route::Health),
            "/chain" => Some(Route::Chain),
            "/order" => Some(Route::Order),
            _ => None,
        }
    }

    /// The route as the tracing layer names its span: its template (as `http.route` wants it)
    /// and its GET span name.
    pub fn matched(self) -> MatchedRoute {
        match self {
            Route::Hello => matched_route!("/"),
            Route::Health => matched_route!("/healthz"),
            Route::Chain => matched_route!("/chain"),
            Route::Order => matched_route!("/order"),
        }
    }
}

/// The handlers, with the tracer `GET /` opens its manual span on, the downstream service
/// `GET /chain` calls, and the work of `GET /order`.
pub struct Routes {
    tracer: SharedTracer,
    downstream: Option<Downstream>,
    orders: Orders,
}

impl Routes {
    pub fn new(tracer: SharedTracer, downstream: Option<Downstream>, orders: Orders) -> Routes {
        Routes {
            tracer,
            downstream,
            orders,
        }
    }

    /// Answers `request`, which matched `route` (`None`: nothing matched).
    pub fn respond(&self, route: Option<Route>, request: &Request) -> Response {
        if has_body(request) {
            // Every route is a GET. The body is refused before it is read; the server library
            // then reads what the client sends of it and throws it away (see the README).
            return Response::text("this service takes no request body\n")
                .with_status_code(413)
                .with_unique_header("Connection", "close");
        }
        let Some(route) = route else {
            return Response::text(format!("no route for {}\n", request.url()))
                .with_status_code(404);
        };
        if request.method() != "GET" && request.method() != "HEAD" {
            return Response::text(format!(
                "{} is not allowed here: use GET\n",
                request.method()
            ))
            .with_status_code(405)
            .with_unique_header("Allow", "GET, HEAD");
        }
        match route {
            Route::Hello => self.hello(),
            Route::Health => Response::text("ok\n"),
            Route::Chain => self.chain(),
            Route::Order => self.order(request),
        }
    }

    fn order(&self, request: &Request) -> Response {
        let calls = match request.get_param("calls").as_deref() {
            Some("concurrent") => Calls::Concurrent,
            _ => Calls::Sequential,
        };
        match self.orders.place(calls) {
            Ok(answer) => Response::text(answer),
            Err(busy) => Response::text(format!("{busy}\n"))
                .with_status_code(503)
                .with_unique_header("Retry-After", "1"),
        }
    }

    fn chain(&self) -> Response {
        let Some(downstream) = &self.downstream else {
            return Response::text(format!(
                "no downstream service: start this one with {}=http://host:port/ to chain it to another\n",
                DOWNSTREAM_URL.name
            ))
            .with_status_code(503);
        };
        match downstream.call() {
            Ok(body) => Response::text(format!("downstream said: {body}")),
            Err(error @ CallError::Timeout { .. }) => {
                Response::text(format!("{error}\n")).with_status_code(504)
            }
            Err(error @ CallError::Busy { .. }) => Response::text(format!("{error}\n"))
                .with_status_code(503)
                .with_unique_header("Retry-After", "1"),
            Err(error) => Response::text(format!("{error}\n")).with_status_code(502),
        }
    }

    fn hello(&self) -> Response {
        self.tracer
            .in_span(MANUAL_SPAN, |_cx| Response::text(GREETING))
    }
}

/// Whether `request` says it carries a body.
fn has_body(request: &Request) -> bool {
    request.header("Transfer-Encoding").is_some()
        || request
            .header("Content-Length")
            .is_some_and(|length| length.trim() != "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    use opentelemetry_sdk::trace::InMemorySpanExporter;
    use std::io::Read;

    fn routes() -> (Routes, InMemorySpanExporter) {
        let (tracer, exporter, _provider) = crate::telemetry::in_memory_tracer();
        (
            Routes::new(tracer.clone(), None, Orders::new(tracer, 2)),
            exporter,
        )
    }

    fn body(response: Response) -> String {
        let (mut reader, _) = response.data.into_reader_and_size();
        let mut body = String::new();
        reader.read_to_string(&mut body).unwrap();
        body
    }

    fn get(path: &str) -> Request {
        Request::fake_http("GET", path, vec![], vec![])
    }

    #[test]
    fn hello_greets_like_the_original_and_opens_test_span() {
        let (routes, exporter) = routes();
        let request = get("/");
        let route = Route::find(&request);
        assert_eq!(route, Some(Route::Hello));
        let response = routes.respond(route, &request);
        assert_eq!(response.status_code, 200);
        assert!(response
            .headers
            .iter()
            .any(|(k, v)| k == "Content-Type" && v.starts_with("text/plain")));
        assert_eq!(body(response), "SRE and DevOps work together!!! ");
        let spans = exporter.get_finished_spans().unwrap();
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].name, "test_span");
    }

    #[test]
    fn health_answers_200() {
        let (routes, _) = routes();
        let request = get("/healthz");
        assert_eq!(
            Route::find(&request).map(|route| route.matched().template),
            Some("/healthz")
        );
        assert_eq!(
            routes.respond(Route::find(&request), &request).status_code,
            200
        );
    }

    #[test]
    fn routes_match_with_a_query_and_when_percent_encoded_and_name_their_get_spans() {
        for (target, route) in [
            ("/?lang=pt", Route::Hello),
            ("/healthz?", Route::Health),
            ("/%68ealthz", Route::Health),
            ("/ch%61in?x=%2F", Route::Chain),
            ("/order", Route::Order),
        ] {
            assert_eq!(Route::find(&get(target)), Some(route), "{target}");
            let matched = route.matched();
            assert_eq!(matched.get_span_name, format!("GET {}", matched.template));
        }
        assert_eq!(Route::find(&get("/%2F")), None);
    }

    #[test]
    fn unknown_paths_answer_404_and_other_methods_405() {
        let (routes, _) = routes();
        let request = get("/missing?x=1");
        assert_eq!(Route::find(&request), None);
        assert_eq!(routes.respond(None, &request).status_code, 404);
        let post = Request::fake_http("POST", "/", vec![], vec![]);
        let response = routes.respond(Route::find(&post), &post);
        assert_eq!(response.status_code, 405);
        assert!(response
            .headers
            .iter()
            .any(|(k, v)| k == "Allow" && v == "GET, HEAD"));
    }

    #[test]
    fn chain_without_a_downstream_is_a_clear_503() {
        let (routes, _) = routes();
        let request = get("/chain");
        assert_eq!(Route::find(&request), Some(Route::Chain));
        let response = routes.respond(Route::find(&request), &request);
        assert_eq!(response.status_code, 503);
        assert!(body(response).contains(DOWNSTREAM_URL.name));
    }

    #[test]
    fn a_body_is_refused_before_it_is_read() {
        let (routes, _) = routes();
        for headers in [
            vec![("Content-Length".to_owned(), "30000000000".to_owned())],
            vec![("Transfer-Encoding".to_owned(), "chunked".to_owned())],
        ] {
            let request = Request::fake_http("POST", "/", headers, vec![]);
            let response = routes.respond(Route::find(&request), &request);
            assert_eq!(response.status_code, 413);
        }
        let empty = Request::fake_http(
            "GET",
            "/",
            vec![("Content-Length".into(), "0".into())],
            vec![],
        );
        assert_eq!(routes.respond(Route::find(&empty), &empty).status_code, 200);
    }

    #[test]
    fn the_query_does_not_change_the_route() {
        assert_eq!(Route::find(&get("/?lang=pt")), Some(Route::Hello));
    }
}
