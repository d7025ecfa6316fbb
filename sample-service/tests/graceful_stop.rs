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
use sample_service::server::{HttpServer, StopOutcome};

#[test]
fn stop_is_bounded_even_under_a_steady_stream_of_requests() {
    let (listener, port) = support::listen_on_free_port();
    drop(listener);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let tracer = Arc::new(BoxedTracer::new(Box::new(NoopTracer::new())));
    let running = HttpServer::bind(addr, tracer, None)
        .unwrap()
        .spawn()
        .unwrap();

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
