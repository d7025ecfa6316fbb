//! Runs a rouille web app in the background of a notebook, so that later cells can send it
//! requests, and stops it when asked (or when the variable holding it is replaced or dropped).
//!
//! Under the hood this is what the notebooks would otherwise repeat for every server:
//! `rouille::Server::new(("127.0.0.1", port), app)`, a thread that serves requests until told to
//! stop, and a fallback to a free port when the preferred one is taken. A re-run server cell hits
//! that case: the server of the earlier run may still hold the port until the kernel restarts.

use std::fmt;
use std::sync::mpsc;

use crate::tr;
use std::thread;
use std::time::Duration;

/// How long the serving thread waits for a request before it looks for a stop message.
const POLL: Duration = Duration::from_millis(50);

/// A server could not start.
#[derive(Debug)]
pub struct ServeError {
    name: String,
    reason: String,
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, reason) = (&self.name, &self.reason);
        f.write_str(&tr!(
            en: format!("{name} could not listen on 127.0.0.1 ({reason}): is the machine out of ports?"),
            pt: format!(
                "{name} não conseguiu escutar em 127.0.0.1 ({reason}): a máquina está sem portas livres?"
            ),
        ))
    }
}

impl std::error::Error for ServeError {}

/// A web app served on loopback by a background thread.
#[derive(Debug)]
pub struct Served {
    name: String,
    url: String,
    /// Why the preferred port was not used, if it was not.
    fallback: Option<String>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

/// Serves `app` on 127.0.0.1, on the port the environment variable `port_variable` names (for
/// example `LAB_SERVICE_PORT`) or on `default_port`; on a free port if that one is taken.
/// `name` is what messages call the server ("the app", "backend").
pub fn serve<F>(
    name: &str,
    port_variable: &str,
    default_port: u16,
    app: F,
) -> Result<Served, ServeError>
where
    F: Fn(&rouille::Request) -> rouille::Response + Send + Sync + Clone + 'static,
{
    let (port, mut fallback) = match std::env::var(port_variable) {
        Err(_) => (default_port, None),
        Ok(text) => match text.parse::<u16>() {
            Ok(port) => (port, None),
            Err(_) => (
                default_port,
                Some(tr!(
                    en: format!(
                        "{port_variable}={text:?} is not a port number, so port {default_port} \
                         was tried"
                    ),
                    pt: format!(
                        "{port_variable}={text:?} não é um número de porta, então a porta \
                         {default_port} foi tentada"
                    ),
                )),
            ),
        },
    };
    let server = match rouille::Server::new(("127.0.0.1", port), app.clone()) {
        Ok(server) => server,
        Err(taken) => {
            fallback = Some(tr!(
                en: format!(
                    "port {port} is taken ({taken}): an earlier run of this cell may still serve \
                     there; Kernel > Restart Kernel frees it"
                ),
                pt: format!(
                    "a porta {port} está ocupada ({taken}): uma execução anterior desta célula \
                     pode ainda estar servindo nela; Kernel > Reiniciar o kernel… a libera"
                ),
            ));
            rouille::Server::new(("127.0.0.1", 0), app).map_err(|err| ServeError {
                name: name.to_owned(),
                reason: err.to_string(),
            })?
        }
    };
    let url = format!("http://{}", server.server_addr());
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = thread::spawn(move || {
        while stopped.try_recv() == Err(mpsc::TryRecvError::Empty) {
            server.poll_timeout(POLL);
        }
    });
    Ok(Served {
        name: name.to_owned(),
        url,
        fallback,
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl Served {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops serving and waits for the serving thread to end (a fraction of a second).
    pub fn stop(mut self) {
        self.shut_down();
    }

    fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shut_down();
    }
}

impl fmt::Display for Served {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, url) = (&self.name, &self.url);
        f.write_str(&tr!(
            en: format!("{name} listening on {url}/"),
            pt: format!("{name} escutando em {url}/"),
        ))?;
        if let Some(why) = &self.fallback {
            write!(f, " ({why})")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};

    fn get(url: &str) -> String {
        let address = url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).unwrap();
        write!(
            stream,
            "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer
    }

    /// tiny_http closes its listening socket on its accept thread, a moment after the server is
    /// dropped.
    fn closes_soon(address: &str) -> bool {
        (0..50).any(|_| {
            thread::sleep(Duration::from_millis(20));
            TcpStream::connect(address).is_err()
        })
    }

    fn hello(_: &rouille::Request) -> rouille::Response {
        rouille::Response::text("hello")
    }

    #[test]
    fn serves_until_stopped() {
        let served = serve("the app", "TRACELAB_TEST_UNSET_PORT", 0, hello).unwrap();
        assert!(get(served.url()).ends_with("hello"));
        assert!(served
            .to_string()
            .starts_with("the app listening on http://127.0.0.1:"));
        let address = served.url().trim_start_matches("http://").to_owned();
        served.stop();
        assert!(closes_soon(&address), "nothing listens any more");
    }

    #[test]
    fn a_taken_port_falls_back_to_a_free_one_and_says_why() {
        let holder = TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = holder.local_addr().unwrap().port();
        let served = serve("backend", "TRACELAB_TEST_UNSET_PORT", taken, hello).unwrap();
        assert!(!served.url().ends_with(&format!(":{taken}")));
        assert!(get(served.url()).ends_with("hello"));
        let message = served.to_string();
        assert!(
            message.contains(&format!("port {taken} is taken")),
            "{message}"
        );
        assert!(message.contains("Restart Kernel"), "{message}");
    }

    #[test]
    fn a_port_variable_that_is_not_a_port_is_named() {
        std::env::set_var("TRACELAB_TEST_BAD_PORT", "eighty");
        let served = serve("the app", "TRACELAB_TEST_BAD_PORT", 0, hello).unwrap();
        let message = served.to_string();
        assert!(
            message.contains("TRACELAB_TEST_BAD_PORT=\"eighty\" is not a port number"),
            "{message}"
        );
    }

    #[test]
    fn every_message_is_written_in_english_and_in_portuguese() {
        let holder = TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = holder.local_addr().unwrap().port();
        std::env::set_var("TRACELAB_TEST_BAD_PORT_PT", "oitenta");
        let render = || {
            let error = ServeError {
                name: "backend".into(),
                reason: "no ports".into(),
            };
            vec![
                serve("backend", "TRACELAB_TEST_UNSET_PORT", taken, hello)
                    .unwrap()
                    .to_string(),
                serve("backend", "TRACELAB_TEST_BAD_PORT_PT", 0, hello)
                    .unwrap()
                    .to_string(),
                error.to_string(),
            ]
        };
        let portuguese =
            crate::lang::assert_translated(render, &[" listening ", " is ", " not ", " taken"]);
        assert!(
            portuguese[0].contains(&format!("a porta {taken} está ocupada")),
            "{portuguese:?}"
        );
        assert!(portuguese[0].contains("backend escutando em http://127.0.0.1:"));
        assert!(portuguese[1].contains("\"oitenta\" não é um número de porta"));
    }

    #[test]
    fn dropping_the_handle_stops_the_server() {
        let served = serve("the app", "TRACELAB_TEST_UNSET_PORT", 0, hello).unwrap();
        let address = served.url().trim_start_matches("http://").to_owned();
        drop(served);
        assert!(closes_soon(&address));
    }
}
