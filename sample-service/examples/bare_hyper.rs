//! A Rust HTTP server's floor: hyper 1.x on tokio answering every request with the greeting, the
//! way hyper's own "hello" example does. `bench/instructions.py` counts its instructions per
//! request beside the service's, to show what the server library itself costs.
//!
//! Usage: `bare_hyper [ADDRESS]` (default `127.0.0.1:5000`).

use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// The service's allocator, so that the difference between the two is the service's own work.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

async fn hello(_request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        sample_service::routes::GREETING.as_bytes(),
    ))))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5000".to_owned())
        .parse()?;
    let listener = TcpListener::bind(addr).await?;
    println!("bare hyper on {addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            // A client that hangs up mid-request is not the benchmark's concern.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
        });
    }
}
