//! A downstream service that answers every request and keeps its header fields as they came
//! (repeated names and their order included), for what `GET /chain` sends on.

use super::*;

/// An HTTP server on a loopback port that answers every request `200 ok` on a connection of its
/// own and keeps the request's header fields, for a test to see exactly what a service sent.
/// Each connection is read for at most [`WAIT`]; the server's thread ends when it is dropped.
pub struct CapturingServer {
    pub port: u16,
    requests: Arc<Mutex<Vec<HeaderFields>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl CapturingServer {
    pub fn start() -> CapturingServer {
        let (listener, port) = listen_on_free_port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen, stopping) = (requests.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    capture_one(stream, &seen);
                }
            }
        });
        CapturingServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The header fields of every request received so far, oldest first.
    pub fn requests(&self) -> Vec<HeaderFields> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for CapturingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop up so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request's head from `stream`, records its header fields, answers `200 ok`, closes.
fn capture_one(stream: TcpStream, seen: &Mutex<Vec<HeaderFields>>) {
    use std::io::Write;
    if stream.set_read_timeout(Some(WAIT)).is_err() {
        return;
    }
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader);
    let mut fields = Vec::new();
    let mut line = String::new();
    let mut complete = false;
    if !reader.read_line(&mut line).is_ok_and(|read| read > 0) {
        return; // the drop's wake-up connection
    }
    line.clear();
    // Header fields up to the empty line.
    while reader.read_line(&mut line).is_ok_and(|read| read > 0) {
        let text = line.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            complete = true;
            break;
        }
        if let Some((name, value)) = text.split_once(':') {
            fields.push((
                name.to_ascii_lowercase(),
                value.trim_matches([' ', '\t']).to_owned(),
            ));
        }
        line.clear();
    }
    if !complete {
        return; // a request cut short
    }
    seen.lock().unwrap().push(fields);
    let mut stream = stream;
    let _ =
        stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
}
