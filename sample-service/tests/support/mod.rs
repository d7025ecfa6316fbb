//! What the whole-program tests share: a real OpenTelemetry collector (rotel, installed from PyPI
//! by `.ci/run`), the real `sample-service` binary, an HTTP client, and free loopback ports.
//!
//! Every process started here is killed when its handle is dropped, so a failing test leaves
//! nothing running. Every wait is bounded.

#![allow(dead_code)] // each test file uses a different part of this module

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

mod capture;
mod collector;

// Each test file uses a different part of this module (see the allow above).
#[allow(unused_imports)]
pub use capture::*;
#[allow(unused_imports)]
pub use collector::*;

/// How long any single wait in these tests may take before it fails the test.
pub const WAIT: Duration = Duration::from_secs(20);

/// A loopback port nobody listens on. Below 32768: above it, a client socket of an earlier test
/// in TIME-WAIT can hold the port, and a server then fails to bind it.
pub fn free_port() -> u16 {
    listen_on_free_port().1
}

/// A listener on a free loopback port below 32768, kept open by the caller.
pub fn listen_on_free_port() -> (TcpListener, u16) {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    if NEXT.load(Ordering::SeqCst) == 0 {
        // Spread concurrent test binaries over the range by their process id.
        let start = 20_000 + (std::process::id() % 1_000) as u16 * 10;
        let _ = NEXT.compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst);
    }
    loop {
        let port = NEXT.fetch_add(1, Ordering::SeqCst);
        assert!(port < 32_000, "no free port left below 32000");
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return (listener, port);
        }
    }
}

/// Lines a child process writes, collected by a thread.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn collect(&self, stream: impl Read + Send + 'static) {
        let lines = self.0.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                match line {
                    Ok(line) => lines.lock().unwrap().push(line),
                    Err(_) => break,
                }
            }
        });
    }

    pub fn snapshot(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        self.snapshot().join("\n")
    }

    /// Waits until a line contains `needle`, and returns it.
    pub fn wait_for(&self, needle: &str, what: &str) -> String {
        wait_until(what, || {
            self.snapshot()
                .into_iter()
                .find(|line| line.contains(needle))
        })
    }
}

/// Polls `probe` every 50 ms until it returns `Some`, for at most [`WAIT`].
pub fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {WAIT:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn wait_for_port(port: u16, what: &str) {
    wait_until(what, || TcpStream::connect(("127.0.0.1", port)).ok());
}

/// A child process that is killed when dropped.
pub struct Process {
    child: Child,
    pub stdout: Lines,
    pub stderr: Lines,
}

impl Process {
    fn spawn(mut command: Command) -> Process {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("could not start {command:?}: {err}"));
        let stdout = Lines::default();
        let stderr = Lines::default();
        stdout.collect(child.stdout.take().unwrap());
        stderr.collect(child.stderr.take().unwrap());
        Process {
            child,
            stdout,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM, the signal `docker stop` and Kubernetes send.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -TERM {} failed", self.pid());
    }

    /// Waits for the process to exit by itself, for at most [`WAIT`].
    pub fn wait_exit(&mut self) -> ExitStatus {
        let status = wait_until("the process to exit", || self.child.try_wait().unwrap());
        // Give the reader threads a moment to take the last lines.
        thread::sleep(Duration::from_millis(100));
        status
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Peak resident memory so far, in kB (VmHWM from /proc).
    pub fn peak_rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/PID/status")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `sample-service` binary built by cargo for these tests.
pub struct Service {
    pub process: Process,
    pub port: u16,
}

impl Service {
    /// Starts the service on a fresh loopback port with only `env` (and `PATH`) set,
    /// and waits until it listens.
    pub fn start(env: &[(&str, &str)]) -> Service {
        Service::start_with(Command::new(env!("CARGO_BIN_EXE_sample-service")), env)
    }

    /// The same, with the file-descriptor limits `soft` and `hard` (set by the shell's `ulimit`
    /// before it runs the service).
    pub fn start_with_file_limit(soft: u64, hard: u64, env: &[(&str, &str)]) -> Service {
        let mut command = Command::new("sh");
        command.args([
            "-c",
            &format!("ulimit -S -n {soft} && ulimit -H -n {hard} && exec \"$0\""),
            env!("CARGO_BIN_EXE_sample-service"),
        ]);
        Service::start_with(command, env)
    }

    fn start_with(mut command: Command, env: &[(&str, &str)]) -> Service {
        let port = free_port();
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string());
        for (key, value) in env {
            command.env(key, value);
        }
        let process = Process::spawn(command);
        process
            .stderr
            .wait_for("listening on", "the service to listen");
        Service { process, port }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(&mut self) {
        self.process.terminate();
        let status = self.process.wait_exit();
        assert!(
            status.success(),
            "the service exited with {status} after SIGTERM; stderr:\n{}",
            self.process.stderr.text()
        );
    }
}

/// A response as the tests look at it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub headers: HashMap<String, String>,
}

/// `GET url` with `headers`; any status is a reply, only a transport failure panics.
pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let mut request = agent.get(url);
    for (key, value) in headers {
        request = request.set(key, value);
    }
    let response = match request.call() {
        Ok(response) => response,
        Err(ureq::Error::Status(_, response)) => response,
        Err(err) => panic!("GET {url} failed: {err}"),
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .filter_map(|name| {
            let value = response.header(&name)?.to_owned();
            Some((name.to_ascii_lowercase(), value))
        })
        .collect();
    let body = response.into_string().unwrap();
    Reply {
        status,
        body,
        headers,
    }
}

/// Debian's nginx with the project's proxy configuration (docker/proxy/default.conf.template) in
/// front of a service on loopback, in a folder of its own; killed when dropped.
pub struct Proxy {
    pub process: Process,
    pub port: u16,
    _dir: tempdir::Dir,
}

/// A temporary folder, removed when dropped.
pub mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(prefix: &str) -> Dir {
            let path = std::env::temp_dir().join(format!(
                "{prefix}-{}-{}",
                std::process::id(),
                super::free_port()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Proxy {
    /// Starts nginx in front of the service on `upstream_port`, and waits until it listens.
    pub fn start(upstream_port: u16) -> Proxy {
        let port = free_port();
        let dir = tempdir::Dir::new("sample-service-proxy");
        let template =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docker/proxy/default.conf.template");
        // What the nginx image's entrypoint does: ${NAME} replaced by the environment's value.
        let site = std::fs::read_to_string(&template)
            .unwrap()
            .replace("${PROXY_LISTEN_PORT}", &format!("127.0.0.1:{port}"))
            .replace("${UPSTREAM}", &format!("127.0.0.1:{upstream_port}"));
        assert!(!site.contains("${"), "a placeholder was left: {site}");
        std::fs::write(dir.path().join("site.conf"), site).unwrap();
        // Only paths around the project's configuration: one process, as this user, files here.
        let main = format!(
            "daemon off;\nmaster_process off;\nerror_log {dir}/error.log warn;\npid {dir}/nginx.pid;\n\
             events {{ worker_connections 4096; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {dir}/body;\n  proxy_temp_path {dir}/proxy;\n\
             fastcgi_temp_path {dir}/fastcgi;\n  uwsgi_temp_path {dir}/uwsgi;\n  scgi_temp_path {dir}/scgi;\n\
             include {dir}/site.conf;\n}}\n",
            dir = dir.path().display()
        );
        std::fs::write(dir.path().join("nginx.conf"), main).unwrap();
        let nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|path| std::path::Path::new(path).exists())
            .expect("nginx is not installed: run `bash .ci/run` or `apt-get install nginx`");
        let mut command = Command::new(nginx);
        command.args(["-p", &dir.path().display().to_string(), "-c", "nginx.conf"]);
        let process = Process::spawn(command);
        wait_for_port(port, "nginx to listen");
        Proxy {
            process,
            port,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// Sends `request` as raw bytes to `port` and returns what came back within `timeout` (the
/// status line first), or an empty string if the connection was closed without an answer.
pub fn raw_exchange(port: u16, request: &[u8], timeout: Duration) -> String {
    use std::io::Write;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(timeout)).unwrap();
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(read) => answer.extend_from_slice(&buffer[..read]),
        }
    }
    String::from_utf8_lossy(&answer).into_owned()
}

/// One request's header fields as a [`CapturingServer`] received them: in order, repeated names
/// kept, names in lowercase, values without the spaces and tabs HTTP puts around them.
pub type HeaderFields = Vec<(String, String)>;
