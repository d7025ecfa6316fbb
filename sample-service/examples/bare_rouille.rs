//! The server library's floor: rouille answering `GET /` with a greeting from the same fixed pool
//! of worker threads as the service, and nothing else: no routes, no spans, no limits.
//! `bench/instructions.py` counts its instructions per request beside the service's.
//!
//! Usage: `bare_rouille [ADDRESS]` (default `127.0.0.1:5000`).

use std::error::Error;
use std::net::SocketAddr;

use rouille::{Response, Server};

/// The service's allocator, so that the difference between the two is the service's own work.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn Error + Send + Sync>> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:5000".to_owned())
        .parse()?;
    let workers = sample_service::config::worker_threads();
    let server = Server::new(addr, |_request| {
        Response::text(sample_service::routes::GREETING)
    })?
    .pool_size(workers);
    println!("bare rouille on {addr}, {workers} worker threads");
    server.run();
    Ok(())
}
