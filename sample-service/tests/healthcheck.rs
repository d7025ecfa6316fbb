//! `sample-service --healthcheck` against the real binary: healthy while the service runs, a
//! clear "unhealthy" line and exit code 1 once it has stopped, with the environment a container
//! gives both (`HOST=0.0.0.0`, the same `PORT`).

mod support;

use std::process::Command;

use support::Service;

fn healthcheck(port: u16) -> (Option<i32>, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sample-service"))
        .arg("--healthcheck")
        .env_clear()
        .env("HOST", "0.0.0.0") // what the container sets: the probe must still find loopback
        .env("PORT", port.to_string())
        .env("OTEL_TRACES_EXPORTER", "none")
        .output()
        .expect("the service binary runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn healthy_while_running_unhealthy_once_stopped() {
    let mut service = Service::start(&[("OTEL_TRACES_EXPORTER", "none")]);
    let (code, text) = healthcheck(service.port);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        text.trim(),
        format!(
            "healthy: http://127.0.0.1:{}/healthz answered 200",
            service.port
        )
    );

    service.stop();
    let (code, text) = healthcheck(service.port);
    assert_eq!(code, Some(1), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with(&format!(
            "sample-service: error: unhealthy: http://127.0.0.1:{}/healthz did not answer",
            service.port
        )),
        "{text}"
    );
}

#[test]
fn help_and_version_describe_the_binary() {
    let help = Command::new(env!("CARGO_BIN_EXE_sample-service"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--healthcheck"));
    let unknown = Command::new(env!("CARGO_BIN_EXE_sample-service"))
        .arg("--nonsense")
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unexpected argument '--nonsense'"));
}
