//! Bad configuration: the real binary exits non-zero with one line that names the variable and
//! the value, and never panics.

mod support;

use std::process::Command;

fn run_with(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sample-service"));
    command.env_clear().env("HOST", "127.0.0.1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("the service binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn each_bad_value_is_one_line_naming_variable_and_value() {
    let cases: &[(&str, &str, &str)] = &[
        ("PORT", "eighty", "PORT=\"eighty\" is not a port"),
        ("PORT", "65536", "PORT=\"65536\" is not a port"),
        ("HOST", "my laptop", "HOST=\"my laptop\" is not an IP address"),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "jaeger:4317",
            "OTEL_EXPORTER_OTLP_ENDPOINT=\"jaeger:4317\" is not an OTLP endpoint URL",
        ),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            "thrift",
            "OTEL_EXPORTER_OTLP_PROTOCOL=\"thrift\" is not a supported OTLP protocol: expected grpc or http/protobuf",
        ),
        (
            "OTEL_TRACES_EXPORTER",
            "jaeger",
            "OTEL_TRACES_EXPORTER=\"jaeger\" names an unknown exporter \"jaeger\"",
        ),
        ("OTEL_SDK_DISABLED", "maybe", "OTEL_SDK_DISABLED=\"maybe\" is not a boolean"),
    ];
    for (var, value, expected) in cases {
        let (code, stderr) = run_with(&[("PORT", "20999"), (var, value)]);
        assert_eq!(code, Some(1), "{var}={value}: exit code; stderr: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{var}={value}: exactly one line: {stderr:?}"
        );
        assert!(
            lines[0].starts_with("sample-service: error: bad configuration: "),
            "{stderr:?}"
        );
        assert!(lines[0].contains(expected), "{var}={value}: {stderr:?}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_port_in_use_is_one_line_with_a_hint() {
    let (_taken, port) = support::listen_on_free_port();
    let (code, stderr) = run_with(&[
        ("PORT", &port.to_string()),
        ("OTEL_TRACES_EXPORTER", "none"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.contains(&format!("could not listen on 127.0.0.1:{port}"))
            && stderr.contains("set PORT"),
        "{stderr:?}"
    );
}

#[test]
fn a_bad_sampler_is_one_line_not_a_silent_fallback() {
    let (code, stderr) = run_with(&[
        ("PORT", "20998"),
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "half"),
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(
        stderr.contains("OTEL_TRACES_SAMPLER_ARG=\"half\" is not a sampling ratio"),
        "{stderr}"
    );
}
