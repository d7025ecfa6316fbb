//! The server's stop: bounded in time even while requests keep coming, and the listening socket
//! closed once it has drained.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::global::BoxedTracer;
use opentelemetry::trace::noop::NoopTracer;
use sample_service::app::App;
use sample_service::config::Config;
use sample_service::server::{HttpServer, RunningServer, StopOutcome};

/// The service's server on `addr`, tracing to nowhere.
fn serve(addr: SocketAddr) -> RunningServer {
    let config = Config::from_lookup(|name| match name {
        "HOST" => Some(addr.ip().to_string().into()),
        "PORT" => Some(addr.port().to_string().into()),
        "OTEL_TRACES_EXPORTER" => Some("none".into()),
        _ => None,
    })
    .unwrap();
    let tracer = Arc::new(BoxedTracer::new(Box::new(NoopTracer::new())));
    let app = App::new(&config, tracer, addr);
    HttpServer::bind(addr, app, config.worker_threads)
        .unwrap()
        .spawn(|| panic!("the listening socket closed by itself"))
        .unwrap()
}

#[test]
fn stop_is_bounded_even_under_a_steady_stream_of_requests() {
    let (listener, port) = support::listen_on_free_port();
    drop(listener);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let running = serve(addr);

    let keep_sending = Arc::new(AtomicBool::new(true));
    let answered = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let keep_sending = keep_sending.clone();
            let answered = answered.clone();
            thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(2))
                    .build();
                let url = format!("http://{addr}/healthz");
                while keep_sending.load(Ordering::SeqCst) {
                    if agent.get(&url).call().is_ok() {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                }
            })
        })
        .collect();
    support::wait_until("the clients to get answers", || {
        (answered.load(Ordering::SeqCst) > 100).then_some(())
    });

    let grace = Duration::from_secs(2);
    let asked = Instant::now();
    let outcome = running.stop(grace);
    let took = asked.elapsed();
    keep_sending.store(false, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }

    assert!(
        took < grace + Duration::from_millis(500),
        "stop took {took:?} with a grace period of {grace:?} ({outcome:?})"
    );
    if outcome == StopOutcome::Drained {
        assert!(
            TcpStream::connect(addr).is_err(),
            "a drained server no longer accepts connections"
        );
    }
    eprintln!("stopped in {took:?}: {outcome:?}");
}

#[test]
fn the_socket_closes_as_soon_as_the_stop_begins() {
    let (listener, port) = support::listen_on_free_port();
    drop(listener);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let running = serve(addr);
    support::wait_until("the server to listen", || TcpStream::connect(addr).ok());
    let stopping = thread::spawn(move || running.stop(Duration::from_secs(5)));
    let closed = Instant::now();
    support::wait_until("the socket to close", || {
        TcpStream::connect(addr).is_err().then_some(())
    });
    assert!(
        closed.elapsed() < Duration::from_millis(500),
        "the socket closed after {:?}",
        closed.elapsed()
    );
    assert_eq!(stopping.join().unwrap(), StopOutcome::Drained);
}
