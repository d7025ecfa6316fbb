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
        (
            "OTEL_BSP_MAX_QUEUE_SIZE",
            "0",
            "OTEL_BSP_MAX_QUEUE_SIZE=\"0\" is not a valid value: expected a whole number of spans from 1 to 100000",
        ),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100000000", "OTEL_BSP_MAX_QUEUE_SIZE=\"100000000\""),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-1", "OTEL_BSP_MAX_QUEUE_SIZE=\"-1\""),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "abc", "OTEL_BSP_MAX_QUEUE_SIZE=\"abc\""),
        (
            "OTEL_BSP_SCHEDULE_DELAY",
            "0",
            "OTEL_BSP_SCHEDULE_DELAY=\"0\" is not a valid value: expected a whole number of milliseconds from 10 to 600000",
        ),
        (
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
            "18446744073709551616",
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE=\"18446744073709551616\"",
        ),
        (
            "OTEL_EXPORTER_OTLP_TIMEOUT",
            "0",
            "OTEL_EXPORTER_OTLP_TIMEOUT=\"0\" is not a valid value: expected a whole number of milliseconds from 1 to 600000",
        ),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "-1", "OTEL_EXPORTER_OTLP_TIMEOUT=\"-1\""),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "api-key",
            "OTEL_EXPORTER_OTLP_HEADERS: the header \"api-key\" has no '='",
        ),
        (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://collector:4318",
            "is an https:// endpoint, but this build has no TLS",
        ),
        (
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT",
            "1000000",
            "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT=\"1000000\" is not a valid value",
        ),
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

#[test]
fn a_value_that_is_not_utf8_is_one_line_not_a_default() {
    use std::os::unix::ffi::OsStrExt;
    let output = Command::new(env!("CARGO_BIN_EXE_sample-service"))
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", std::ffi::OsStr::from_bytes(b"50\xff0"))
        .output()
        .expect("the service binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains("PORT is not valid UTF-8"), "{stderr}");
}

#[test]
fn secrets_in_the_configuration_never_reach_a_line() {
    let (_, header) = run_with(&[("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cr3t,broken")]);
    assert!(header.contains("\"broken\""), "{header}");
    assert!(!header.contains("s3cr3t"), "{header}");
    let (_, endpoint) = run_with(&[(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "https://admin:s3cr3t@collector:4318",
    )]);
    assert!(
        !endpoint.contains("s3cr3t") && !endpoint.contains("admin"),
        "{endpoint}"
    );
}

#[test]
fn help_lists_every_variable_the_service_reads() {
    let output = Command::new(env!("CARGO_BIN_EXE_sample-service"))
        .arg("--help")
        .output()
        .expect("the service binary runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in sample_service::config::variables::VARIABLES {
        assert!(
            help.contains(&format!("  {} (default: ", variable.name)),
            "{} missing from --help",
            variable.name
        );
    }
}
