//! The service under hostile clients and faults, against the real binary and, where the limit
//! lives in the reverse proxy of the deployed stack, Debian's nginx with the project's
//! configuration (docker/proxy/default.conf.template) in front of it. Each test is bounded in
//! time and checks that the service keeps answering.

mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use support::{get, raw_exchange, Collector, Proxy, Service, WAIT};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const GREETING: &str = "SRE and DevOps work together!!! ";

fn quiet_service() -> Service {
    Service::start(&[("OTEL_TRACES_EXPORTER", "none")])
}

/// GET / answers the greeting, within a second.
fn answers(url: &str) {
    let asked = Instant::now();
    let reply = get(url, &[]);
    assert_eq!(reply.status, 200, "{url}: {reply:?}");
    assert_eq!(reply.body, GREETING);
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{url} took {:?}",
        asked.elapsed()
    );
}

#[test]
fn a_huge_content_length_is_refused_by_the_proxy_before_any_body() {
    let mut service = quiet_service();
    let proxy = Proxy::start(service.port);
    let answer = raw_exchange(
        proxy.port,
        b"POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: 30000000000\r\n\r\n",
        Duration::from_secs(5),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer:?}");
    answers(&proxy.url("/"));
    assert!(service.process.is_running(), "the service is still up");
}

#[test]
fn slow_bodies_hold_the_proxy_not_the_service_and_are_cut_off() {
    let mut service = quiet_service();
    let proxy = Proxy::start(service.port);
    let port = proxy.port;
    // More slow clients than the service has worker threads (however many cores this machine
    // has): each sends 2 KB of a 60 KB body, then nothing.
    let slow: Vec<_> = (0..sample_service::config::worker_threads() + 8)
        .map(|_| {
            thread::spawn(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream
                    .write_all(b"POST / HTTP/1.1\r\nHost: lab\r\nContent-Length: 60000\r\n\r\n")
                    .unwrap();
                stream.write_all(&[b'x'; 2048]).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(15)))
                    .unwrap();
                let started = Instant::now();
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                (started.elapsed(), answer)
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(500));
    answers(&proxy.url("/"));
    answers(&service.url("/"));
    for client in slow {
        let (waited, answer) = client.join().unwrap();
        assert!(
            waited < Duration::from_secs(13),
            "a slow body was held {waited:?} (answer {answer:?})"
        );
    }
    answers(&proxy.url("/"));
    assert!(service.process.is_running());
}

#[test]
fn an_endless_header_is_cut_off_by_the_proxy_with_bounded_memory() {
    let mut service = quiet_service();
    let proxy = Proxy::start(service.port);
    let port = proxy.port;
    let senders: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                stream
                    .set_write_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: lab\r\nX-Endless: ");
                let chunk = vec![b'a'; 64 * 1024];
                let mut sent = 0usize;
                while sent < 100 * 1024 * 1024 {
                    match stream.write(&chunk) {
                        Ok(written) => sent += written,
                        Err(_) => break,
                    }
                }
                // nginx answered 400 once the header passed its buffers, then read and threw away
                // what came after, for a bounded time, without keeping it.
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .unwrap();
                let mut answer = Vec::new();
                let _ = stream.read_to_end(&mut answer);
                String::from_utf8_lossy(&answer).into_owned()
            })
        })
        .collect();
    for sender in senders {
        let answer = sender.join().unwrap();
        assert!(
            answer.is_empty() || answer.starts_with("HTTP/1.1 400"),
            "{:?}",
            &answer[..answer.len().min(200)]
        );
    }
    answers(&proxy.url("/"));
    let rss_kb = proxy.process.peak_rss_kb();
    assert!(rss_kb < 64 * 1024, "nginx peak RSS {rss_kb} kB");
    assert!(service.process.is_running());
}

#[test]
fn a_long_url_is_refused_by_the_proxy_and_cut_on_the_span_without_it() {
    let collector = Collector::start();
    let endpoint = collector.endpoint("http/protobuf");
    let mut service = Service::start(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    let proxy = Proxy::start(service.port);
    let long = "x".repeat(1024 * 1024);
    let refused = raw_exchange(
        proxy.port,
        format!("GET /?q={long} HTTP/1.1\r\nHost: lab\r\n\r\n").as_bytes(),
        Duration::from_secs(5),
    );
    assert!(
        refused.starts_with("HTTP/1.1 414"),
        "{}",
        &refused[..refused.len().min(200)]
    );

    // Straight to the service: answered, and the span carries the values cut to 1024 bytes.
    let agent = "u".repeat(100 * 1024);
    let answer = raw_exchange(
        service.port,
        format!("GET /?q={long} HTTP/1.1\r\nHost: lab\r\nUser-Agent: {agent}\r\nConnection: close\r\n\r\n")
            .as_bytes(),
        Duration::from_secs(5),
    );
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "{}",
        &answer[..answer.len().min(200)]
    );
    let spans = collector.wait_for_spans("the span of the long request", |spans| {
        spans.iter().any(|span| span.name == "GET /")
    });
    let span = spans.iter().find(|span| span.name == "GET /").unwrap();
    assert_eq!(span.attribute("url.query").map(str::len), Some(1024));
    assert_eq!(
        span.attribute("user_agent.original").map(str::len),
        Some(1024)
    );
    assert!(service.process.is_running());
}

fn idle_connections(port: u16, count: usize) -> Vec<TcpStream> {
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    (0..count)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok())
        .collect()
}

#[test]
fn when_the_accept_loop_dies_the_process_exits_with_one_clear_line() {
    let mut service = Service::start_with_file_limit(256, 256, &[("OTEL_TRACES_EXPORTER", "none")]);
    let held = idle_connections(service.port, 300);
    let status = service.process.wait_exit();
    drop(held);
    assert_eq!(status.code(), Some(1), "{}", service.process.stderr.text());
    let stderr = service.process.stderr.text();
    assert!(
        stderr.contains(&format!(
            "sample-service: error: the server stopped accepting connections: nothing listens on 127.0.0.1:{} any more (most likely the process ran out of file descriptors; the limit is 256)",
            service.port
        )),
        "{stderr}"
    );
}

#[test]
fn the_soft_file_limit_is_raised_to_the_hard_one() {
    let mut service =
        Service::start_with_file_limit(256, 4096, &[("OTEL_TRACES_EXPORTER", "none")]);
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", service.process.pid())).unwrap();
    let open_files = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    assert!(
        open_files.split_whitespace().nth(3) == Some("4096"),
        "{open_files}"
    );
    let _held = idle_connections(service.port, 300);
    answers(&service.url("/"));
    assert!(service.process.is_running());
}

/// A downstream service that answers after `delay`, on a thread per connection, and remembers the
/// headers of every request.
struct SlowDownstream {
    port: u16,
    requests: Arc<Mutex<Vec<HashMap<String, String>>>>,
}

impl SlowDownstream {
    fn start(delay: Duration) -> SlowDownstream {
        let (listener, port) = support::listen_on_free_port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || serve_slowly(stream, delay, &seen));
            }
        });
        SlowDownstream { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

fn serve_slowly(stream: TcpStream, delay: Duration, seen: &Mutex<Vec<HashMap<String, String>>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut headers = HashMap::new();
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
        }
        line.clear();
    }
    seen.lock().unwrap().push(headers);
    thread::sleep(delay);
    let mut stream = stream;
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nslow");
}

#[test]
fn slow_chain_calls_never_take_the_health_check() {
    let downstream = SlowDownstream::start(Duration::from_millis(1500));
    let mut service = Service::start(&[
        ("OTEL_TRACES_EXPORTER", "none"),
        ("DOWNSTREAM_URL", &downstream.url()),
    ]);
    let chain = service.url("/chain");
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let chain = chain.clone();
            thread::spawn(move || {
                let asked = Instant::now();
                let reply = get(&chain, &[]);
                (reply.status, asked.elapsed())
            })
        })
        .collect();
    thread::sleep(Duration::from_millis(300));
    let mut slowest = Duration::ZERO;
    for _ in 0..10 {
        let asked = Instant::now();
        assert_eq!(get(&service.url("/healthz"), &[]).status, 200);
        slowest = slowest.max(asked.elapsed());
        thread::sleep(Duration::from_millis(50));
    }
    assert!(
        slowest < Duration::from_millis(100),
        "/healthz took {slowest:?} at worst"
    );
    let outcomes: Vec<(u16, Duration)> = callers
        .into_iter()
        .map(|caller| caller.join().unwrap())
        .collect();
    let answered = outcomes.iter().filter(|(status, _)| *status == 200).count();
    let refused: Vec<_> = outcomes
        .iter()
        .filter(|(status, _)| *status == 503)
        .collect();
    assert!(answered >= 1, "{outcomes:?}");
    assert_eq!(answered + refused.len(), 100, "{outcomes:?}");
    assert!(
        refused
            .iter()
            .all(|(_, took)| *took < Duration::from_secs(1)),
        "a refused call waited: {refused:?}"
    );
    answers(&service.url("/"));
    assert!(service.process.is_running());
}

#[test]
fn traceparents_the_specification_rejects_start_new_traces_at_the_real_binary() {
    let service = quiet_service();
    let url = service.url("/");
    let continued = get(
        &url,
        &[("traceparent", &format!("00-{TRACE}-00f067aa0ba902b7-01"))],
    );
    assert!(continued.headers["traceresponse"].starts_with(&format!("00-{TRACE}-")));
    for invalid in [
        "00-1-1-01",
        "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-001",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
    ] {
        let reply = get(&url, &[("traceparent", invalid), ("tracestate", "lab=1")]);
        assert_eq!(reply.status, 200);
        assert!(
            !reply.headers["traceresponse"].contains("4bf92f3577b34da6a3ce929d0e0e473"),
            "{invalid:?} continued the caller's trace: {:?}",
            reply.headers["traceresponse"]
        );
    }
}

#[test]
fn trace_context_and_baggage_cross_the_proxy_and_chain_to_the_next_service() {
    let collector = Collector::start();
    let downstream = SlowDownstream::start(Duration::ZERO);
    let service = Service::start(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            &collector.endpoint("http/protobuf"),
        ),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("DOWNSTREAM_URL", &downstream.url()),
    ]);
    let proxy = Proxy::start(service.port);
    let reply = get(
        &proxy.url("/chain"),
        &[
            ("traceparent", &format!("00-{TRACE}-00f067aa0ba902b7-01")),
            ("baggage", "lab.student=ada,lab.exercise=04"),
        ],
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    assert!(
        reply.headers["traceresponse"].starts_with(&format!("00-{TRACE}-")),
        "{reply:?}"
    );
    let received = downstream.requests.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert!(
        received[0]["traceparent"].starts_with(&format!("00-{TRACE}-")),
        "{received:?}"
    );
    let baggage: Vec<&str> = received[0]["baggage"].split(',').collect();
    assert!(
        baggage.contains(&"lab.student=ada") && baggage.contains(&"lab.exercise=04"),
        "{received:?}"
    );
    let spans = collector.wait_for_spans("the chain's spans", |spans| {
        spans.iter().filter(|span| span.trace_id == TRACE).count() >= 2
    });
    let client = spans
        .iter()
        .find(|span| span.trace_id == TRACE && span.kind == "SPAN_KIND_CLIENT");
    assert!(client.is_some(), "{spans:?}");
}

#[test]
fn a_stop_with_a_black_holed_collector_ends_within_its_deadline_with_the_counts() {
    // A collector that accepts connections and never answers.
    let (listener, port) = support::listen_on_free_port();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let endpoint = format!("http://127.0.0.1:{port}");
    let mut service = Service::start(&[
        ("OTEL_TRACES_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
    ]);
    for _ in 0..50 {
        assert_eq!(get(&service.url("/"), &[]).status, 200);
    }
    let asked = Instant::now();
    service.process.terminate();
    let status = service.process.wait_exit();
    let took = asked.elapsed();
    assert!(
        took < Duration::from_millis(11_500),
        "the stop took {took:?}"
    );
    assert!(took < WAIT);
    assert_eq!(status.code(), Some(1));
    let stderr = service.process.stderr.text();
    assert!(
        stderr.contains("sample-service: stopped; OTLP: 100 spans ended, 0 delivered, 0 lost in failed exports, 0 dropped because the export queue was full, 100 never sent"),
        "{stderr}"
    );
    assert!(
        stderr.contains("spans may be lost: the spans still queued were not all sent within"),
        "{stderr}"
    );
}
