//! The environment `docker/compose.yaml` gives the service container, checked against the real
//! configuration parser and the real binary: the service accepts it, exports where it says, and
//! its `--healthcheck` (the image's HEALTHCHECK) finds it healthy.

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use sample_service::config::{Config, OtlpProtocol};
use support::{get, Collector, Service};
use yaml_rust2::YamlLoader;

/// `value` as compose passes it when none of the variables it names is set: each
/// `${NAME:-default}` becomes its default (compose's own interpolation).
fn with_defaults(value: &str) -> String {
    let mut text = value.to_owned();
    while let Some(start) = text.find("${") {
        let end = start + text[start..].find('}').expect("a closing brace");
        let default = text[start + 2..end]
            .split_once(":-")
            .map_or("", |(_, default)| default)
            .to_owned();
        text.replace_range(start..=end, &default);
    }
    text
}

/// `services.app.environment` of docker/compose.yaml, as compose gives it on a laptop.
fn compose_app_environment() -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docker/compose.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let docs = YamlLoader::load_from_str(&text).unwrap();
    let environment = docs[0]["services"]["app"]["environment"]
        .as_hash()
        .expect("services.app.environment is a map");
    environment
        .iter()
        .map(|(key, value)| {
            let value = match value {
                yaml_rust2::Yaml::String(text) => with_defaults(text),
                yaml_rust2::Yaml::Integer(number) => number.to_string(),
                other => panic!("unexpected value {other:?}"),
            };
            (key.as_str().unwrap().to_owned(), value)
        })
        .collect()
}

#[test]
fn compose_defaults_are_filled_in_as_compose_does() {
    assert_eq!(
        with_defaults("${APP_TRACES_EXPORTER:-otlp,console}"),
        "otlp,console"
    );
    assert_eq!(with_defaults("x${UNSET}y"), "xy");
    assert_eq!(with_defaults("plain"), "plain");
}

#[test]
fn the_compose_environment_is_a_valid_configuration() {
    let env = compose_app_environment();
    let config =
        Config::from_lookup(|name| env.get(name).map(Into::into)).expect("compose's environment");
    assert_eq!(config.listen, "0.0.0.0:5000".parse().unwrap());
    assert!(config.telemetry.console, "spans to STDOUT, as the original");
    let otlp = config.telemetry.otlp.expect("and to Jaeger");
    assert_eq!(otlp.protocol, OtlpProtocol::HttpProtobuf);
    assert_eq!(otlp.endpoint.as_str(), "http://jaeger:4318/v1/traces");
    let downstream = config.downstream.expect("GET /chain calls the backend");
    assert_eq!(downstream.url.as_str(), "http://backend:5000/");
}

#[test]
fn the_service_runs_and_is_healthy_with_the_compose_environment() {
    let collector = Collector::start();
    let mut env = compose_app_environment();
    // What cannot be the same outside a container: loopback instead of 0.0.0.0, a free port
    // instead of 5000, and this test's collector instead of the `jaeger` host.
    env.insert("HOST".into(), "127.0.0.1".into());
    env.insert(
        "OTEL_EXPORTER_OTLP_ENDPOINT".into(),
        collector.endpoint("http/protobuf"),
    );
    env.remove("PORT");
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut service = Service::start(&pairs);

    let health = Command::new(env!("CARGO_BIN_EXE_sample-service"))
        .arg("--healthcheck")
        .env_clear()
        .envs(&env)
        .env("HOST", "0.0.0.0") // as in the container: the probe goes to loopback
        .env("PORT", service.port.to_string())
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}{}",
        String::from_utf8_lossy(&health.stdout),
        String::from_utf8_lossy(&health.stderr)
    );

    assert_eq!(get(&service.url("/"), &[]).status, 200);
    service.stop();
    let spans = collector.wait_for_spans("GET / from the compose-configured service", |spans| {
        spans.iter().any(|span| span.name == "GET /")
    });
    assert!(spans
        .iter()
        .all(|span| span.service_name == "service_example"));
    // `console` is on too: the spans were also printed to STDOUT.
    assert!(service.process.stdout.text().contains("test_span"));
}
