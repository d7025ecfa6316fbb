"""Checks docker/ with real linters and validators, since these machines have no Docker engine:
hadolint and checkov on every Dockerfile, the Compose Specification's JSON schema on compose.yaml,
and what the schema cannot see (how the services depend on each other, what is published where).

Run by `./lab test`; the tools come from .venv-lint/ (requirements-lint.txt).
"""

import json
import re
import subprocess
from pathlib import Path

import pytest

DOCKER = Path(__file__).resolve().parent
REPO = DOCKER.parent
LINT_BIN = REPO / ".venv-lint" / "bin"
DOCKERFILES = sorted(DOCKER.glob("*Dockerfile"))


def run(tool, *args):
    path = LINT_BIN / tool
    if not path.exists():
        pytest.fail(f"{path} is missing: run ./lab test, which installs requirements-lint.txt into .venv-lint/")
    return subprocess.run([str(path), *args], capture_output=True, text=True, cwd=REPO, timeout=300)


def test_there_are_two_dockerfiles():
    assert [path.name for path in DOCKERFILES] == ["Dockerfile", "lab.Dockerfile"]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_finds_nothing(dockerfile):
    result = run("hadolint", str(dockerfile))
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_passes_every_dockerfile():
    result = run(
        "checkov",
        "-d",
        "docker",
        "--framework",
        "dockerfile",
        "--compact",
        "--quiet",
        "--skip-download",
        "--output",
        "cli",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout, result.stdout
    assert "Passed checks:" in result.stdout, result.stdout


def test_compose_file_matches_the_compose_specification():
    result = run("check-jsonschema", "--builtin-schema", "vendor.compose-spec", "docker/compose.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def read_compose():
    result = run(
        "python", "-c", "import json, yaml, sys; print(json.dumps(yaml.safe_load(open('docker/compose.yaml'))))"
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_stack_is_wired_as_the_lab_describes():
    stack = read_compose()
    services = stack["services"]
    assert set(services) == {"jaeger", "proxy", "app", "backend", "lab"}
    assert stack["networks"]["lab"]["name"] == "lab", "the original's network name"
    for name, service in services.items():
        assert service["networks"] == ["lab"], name
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, f"{name} must wait for {dependency} to be healthy"
    assert "healthcheck" in services["jaeger"], "app and lab wait on Jaeger's health"
    # Jaeger on the host's loopback unless the user says otherwise; its UI on its own port, 16686,
    # the one every command of the lab uses.
    assert services["jaeger"]["ports"] == [
        "${JAEGER_UI_ADDRESS:-127.0.0.1}:16686:16686",
        "${JAEGER_OTLP_ADDRESS:-127.0.0.1}:4317:4317",
        "${JAEGER_OTLP_ADDRESS:-127.0.0.1}:4318:4318",
    ]
    # The app on port 80, as in the original, through the proxy only.
    assert services["proxy"]["ports"] == ["80:8080"]
    assert services["proxy"]["environment"]["UPSTREAM"] == "app:5000"
    assert "ports" not in services["app"], "the app is reached through the proxy only"
    assert services["jaeger"]["image"].startswith("jaegertracing/jaeger:2."), "Jaeger v2, pinned"
    # The notebooks' Jaeger client names the image it was written against in its messages.
    client = (DOCKER.parent / "tracelab" / "src" / "jaeger.rs").read_text()
    jaeger_tag = services["jaeger"]["image"].split("@")[0]
    assert f'JAEGER_IMAGE: &str = "{jaeger_tag}";' in client, "compose and tracelab pin one Jaeger"
    # Two instances of the service under two names, the first calling the second.
    assert services["app"]["environment"]["DOWNSTREAM_URL"] == "http://backend:5000/"
    assert (
        services["backend"]["environment"]["OTEL_SERVICE_NAME"] != services["app"]["environment"]["OTEL_SERVICE_NAME"]
    )
    assert "ports" not in services["backend"], "the backend is reached through the app only"


def test_jupyterlab_is_published_on_loopback_only():
    lab = read_compose()["services"]["lab"]
    assert lab["ports"] == ["127.0.0.1:8888:8888"]
    start = (DOCKER / "lab-start.sh").read_text()
    assert "unset JUPYTER_TOKEN" in start, "an empty token must not disable authentication"


def test_the_service_image_runs_as_non_root_with_its_own_healthcheck():
    text = (DOCKER / "Dockerfile").read_text()
    assert 'CMD ["/sample-service", "--healthcheck"]' in text
    assert "USER 65532:65532" in text
    assert "EXPOSE 5000" in text and "PORT=5000" in text
    assert "cargo build --release --locked -p sample-service" in text, "the command CI builds with"


def test_jupyterlab_opens_a_student_version_both_natively_and_in_the_image():
    """`./lab up` and the lab image open the same first lesson, and it exists."""
    repo = DOCKER.parent
    for starter in [repo / "lab", DOCKER / "lab-start.sh"]:
        url = re.search(r'--ServerApp\.default_url="?/lab/tree/([^"\s]+\.ipynb)', starter.read_text())
        assert url, f"{starter.name} sets no default notebook"
        assert url.group(1).startswith("student/"), f"{starter.name} opens {url.group(1)}, not a student version"
        # The track of the language kernel-setup/lab-language picks: each must exist.
        for language in ["en", "pt-BR"]:
            lesson = url.group(1).replace("$language", language)
            assert (repo / "notebooks" / lesson).is_file(), f"{starter.name} opens {lesson}, which does not exist"
    dockerfile = (DOCKER / "lab.Dockerfile").read_text()
    for needed in ["notebooks/solved", "notebooks/student", "notebooks/nbgrader_config.py"]:
        assert needed in dockerfile, f"the lab image lacks {needed}"


def test_every_base_image_is_pinned_by_digest():
    compose = read_compose()
    images = [service["image"] for service in compose["services"].values() if "build" not in service]
    images += re.findall(r"^FROM (\S+)", "".join(path.read_text() for path in DOCKERFILES), re.M)
    assert len(images) >= 4, images
    for image in images:
        assert re.fullmatch(r"[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}", image), f"{image} is not pinned by digest"


def test_every_service_is_hardened():
    services = read_compose()["services"]
    for name, service in services.items():
        assert service["security_opt"] == ["no-new-privileges:true"], name
        assert service["cap_drop"] == ["ALL"], name
        assert service["logging"]["options"]["max-size"], f"{name}'s logs are rotated"
        assert service["mem_limit"] and service["pids_limit"], f"{name} has memory and process limits"
        assert service["restart"] == "unless-stopped", name
    # A read-only root wherever the image needs no writes; the lab saves notebooks and compiles.
    assert [name for name, service in services.items() if not service.get("read_only")] == ["lab"]


def test_the_stop_fits_in_the_grace_period():
    """The service's stop deadline (STOP_DEADLINE in its main.rs) is below compose's grace period,
    after which Docker kills it."""
    main = (REPO / "sample-service" / "src" / "main.rs").read_text()
    deadline = int(re.search(r"const STOP_DEADLINE: Duration = Duration::from_secs\((\d+)\);", main).group(1))
    for name in ["app", "backend"]:
        grace = read_compose()["services"][name]["stop_grace_period"]
        assert int(grace.rstrip("s")) > deadline, f"{name}: {grace} is not above {deadline} s"


def test_the_proxy_configuration_is_the_one_the_tests_run():
    """compose mounts docker/proxy/default.conf.template and fills its two placeholders; the
    hostile-client tests run Debian's nginx on that same file."""
    proxy = read_compose()["services"]["proxy"]
    assert "./proxy/default.conf.template:/etc/nginx/templates/default.conf.template:ro" in proxy["volumes"]
    template = (DOCKER / "proxy" / "default.conf.template").read_text()
    placeholders = set(re.findall(r"\$\{(\w+)\}", template))
    assert placeholders == set(proxy["environment"]), placeholders
    hostile = (REPO / "sample-service" / "tests" / "support" / "mod.rs").read_text()
    assert "docker/proxy/default.conf.template" in hostile
