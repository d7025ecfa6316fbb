"""Checks iac/ with real tools, since these machines have no Terraform binary and no cloud
account: checkov on the Terraform code, the cloud-init template rendered and validated by Debian's
`cloud-init schema`, and the HCL read by a real HCL2 parser to check that every variable is
declared, described and used. `tests/lab.tftest.hcl` is for users with Terraform 1.7+.

Run by `./lab test`; checkov and the HCL2 parser come from .venv-lint/ (requirements-lint.txt),
cloud-init from Debian's package.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

IAC = Path(__file__).resolve().parent
REPO = IAC.parent
LINT_PYTHON = REPO / ".venv-lint" / "bin" / "python"
TEMPLATE = IAC / "templates" / "cloud-init.yaml.tftpl"
# Representative values for the template, as main.tf passes them.
TEMPLATE_VALUES = {
    "repository_url": "https://example.org/rust-tracing-lab.git",
    "git_commit": "0123456789abcdef0123456789abcdef01234567",
    "jaeger_address": "0.0.0.0",
}
CLOUD_INIT_SCHEMA = Path("/usr/lib/python3/dist-packages/cloudinit/config/schemas/schema-cloud-config-v1.json")


def lint_tool(name):
    path = REPO / ".venv-lint" / "bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run ./lab test, which installs requirements-lint.txt into .venv-lint/")
    return str(path)


def render(template, values):
    """Renders the two constructs of Terraform's template language the template uses: `${name}`
    and the `$${` escape. Anything else (directives, function calls) is refused, so this stand-in for
    templatefile() cannot silently render what Terraform would render differently."""
    if "%{" in template:
        raise ValueError("template directives (%{...}) are not supported by this renderer")
    placeholder = "\0"
    text = template.replace("$${", placeholder)
    names = set(re.findall(r"\$\{([^}]*)\}", text))
    unknown = names - set(values)
    if unknown:
        raise KeyError(f"the template uses {sorted(unknown)}, which main.tf does not pass")
    for name in names:
        text = text.replace("${" + name + "}", values[name])
    return text.replace(placeholder, "${")


def hcl_files():
    result = subprocess.run(
        [
            str(LINT_PYTHON),
            "-c",
            "import hcl2, json, sys, pathlib\n"
            "out = {p.name: hcl2.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob('*.tf'))}\n"
            "print(json.dumps(out, default=str))",
            str(IAC),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def attribute(value):
    """checkov's HCL2 parser (bc-python-hcl2) wraps each attribute's value in a one-item list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def test_terraform_layout():
    assert sorted(path.name for path in IAC.glob("*.tf")) == ["main.tf", "outputs.tf", "variables.tf", "versions.tf"]
    assert TEMPLATE.exists() and (IAC / "tests" / "lab.tftest.hcl").exists()


def test_checkov_passes_with_only_reasoned_skips():
    result = subprocess.run(
        [lint_tool("checkov"), "-d", str(IAC), "--framework", "terraform", "--compact", "--quiet", "--skip-download"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed checks: 0" in result.stdout, result.stdout
    # Every skip is inline, with its reason; there is no blanket skip.
    for path in IAC.glob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip=" in line:
                assert re.search(r"checkov:skip=CKV2?_AWS_\d+:\S.{10,}", line), (
                    f"{path.name}: a skip without a reason: {line}"
                )


def test_every_variable_is_declared_described_and_used():
    files = hcl_files()
    declared = {}
    for block in files["variables.tf"].get("variable", []):
        declared.update(block)
    for name, body in declared.items():
        assert body.get("description"), f"variable {name} has no description"
    code = "\n".join(path.read_text() for path in IAC.glob("*.tf"))
    used = set(re.findall(r"\bvar\.([a-z_][a-z0-9_]*)", code))
    assert used - set(declared) == set(), f"used but not declared: {used - set(declared)}"
    assert set(declared) - used == set(), f"declared but never used: {set(declared) - used}"


def test_outputs_say_where_to_look():
    outputs = {}
    for block in hcl_files()["outputs.tf"].get("output", []):
        outputs.update(block)
    assert set(outputs) == {"app_url", "jaeger_ui_url", "instance_id", "public_ip"}
    assert all(body.get("description") for body in outputs.values())


def test_the_ami_comes_from_canonical():
    data = {}
    for block in hcl_files()["main.tf"].get("data", []):
        data.update(block)
    ami = data["aws_ami"]["ubuntu"]
    assert attribute(ami["owners"]) == ["099720109477"], "Canonical's owner id"
    assert attribute(ami["most_recent"]) is True


def test_main_passes_the_template_exactly_what_it_uses():
    main = (IAC / "main.tf").read_text()
    passed = set(re.findall(r"^\s+(\w+)\s+=", main[main.index("templatefile(") : main.index("})")], re.M))
    assert passed == set(TEMPLATE_VALUES), passed


@pytest.fixture
def rendered(tmp_path):
    path = tmp_path / "user-data.yaml"
    path.write_text(render(TEMPLATE.read_text(), TEMPLATE_VALUES))
    return path


def test_the_rendered_cloud_config_is_valid(rendered):
    if shutil.which("cloud-init") is None:
        pytest.fail("cloud-init is not installed: apt-get install cloud-init (./lab test does it as root)")
    text = rendered.read_text()
    assert text.startswith("#cloud-config\n"), "#cloud-config must be the first line"
    result = subprocess.run(
        ["cloud-init", "schema", "--config-file", str(rendered)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Valid cloud-config" in result.stdout, result.stdout


def test_the_rendered_cloud_config_has_only_known_keys(rendered):
    # cloud-init schema does not reject unknown top-level keys; its JSON schema lists the known ones.
    import yaml  # PyYAML, a dependency of JupyterLab in .venv

    schema = json.loads(CLOUD_INIT_SCHEMA.read_text())
    known = set()
    for part in schema["allOf"]:
        reference = part["$ref"].split("/")[-1]
        known |= set(schema["$defs"][reference].get("properties", {}))
    config = yaml.safe_load(rendered.read_text())
    assert set(config) - known == set(), f"unknown cloud-config keys: {set(config) - known}"


def test_the_vm_runs_the_compose_file_rather_than_repeating_it(rendered):
    config = rendered.read_text()
    assert 'docker compose -f "$repo/docker/compose.yaml" up --build --detach jaeger proxy app backend' in config
    assert "git clone --quiet --no-checkout 'https://example.org/rust-tracing-lab.git'" in config
    assert "commit='0123456789abcdef0123456789abcdef01234567'" in config
    assert 'git -C "$repo" checkout --quiet --detach "$commit"' in config
    # The VM's service sends spans to Jaeger only, and Jaeger's UI listens where the group allows.
    assert "export APP_TRACES_EXPORTER=otlp JAEGER_UI_ADDRESS='0.0.0.0'" in config
    for package in ("docker.io", "docker-compose-v2", "git"):
        assert f"  - {package}\n" in config


def test_the_renderer_refuses_what_it_cannot_render():
    with pytest.raises(KeyError):
        render("${nope}", TEMPLATE_VALUES)
    with pytest.raises(ValueError):
        render("%{ if x }y%{ endif }", TEMPLATE_VALUES)
    assert render("$${HOME} ${jaeger_address}", TEMPLATE_VALUES) == "${HOME} 0.0.0.0"


def blocks(kind, name):
    """The body of every `kind "name" "label"` block in main.tf, by label."""
    found = {}
    for block in hcl_files()["main.tf"].get(kind, []):
        found.update(block.get(name, {}))
    return found


def test_the_vm_is_not_replaced_when_canonical_publishes_an_image():
    instance = blocks("resource", "aws_instance")["lab"]
    lifecycle = attribute(instance["lifecycle"])
    assert attribute(lifecycle["ignore_changes"]) in (["ami"], ["${ami}"]), lifecycle


def test_the_subnet_is_in_a_zone_that_offers_the_instance_type():
    main = (IAC / "main.tf").read_text()
    assert 'data "aws_ec2_instance_type_offerings" "lab"' in main
    subnets = main[main.index('data "aws_subnets" "default"') :]
    assert "data.aws_ec2_instance_type_offerings.lab.locations" in subnets[: subnets.index("\n}\n")]
    assert "subnet_id                   = sort(data.aws_subnets.default.ids)[0]" in main


def test_jaeger_is_not_opened_to_the_internet_unless_asked():
    main = (IAC / "main.tf").read_text()
    rule = main[main.index('resource "aws_vpc_security_group_ingress_rule" "jaeger_ui"') :]
    rule = rule[: rule.index("\n}\n")]
    assert "precondition" in rule and "var.allow_jaeger_from_anywhere" in rule


def test_the_repository_and_commit_cannot_inject_shell():
    """The validations main.tf's variables carry, run on hostile values with Terraform's regex
    semantics (RE2, as Python's re for these patterns)."""
    variables = (IAC / "variables.tf").read_text()
    url_pattern = re.search(r'regex\("(\^https://[^"]+)", var\.repository_url\)', variables).group(1)
    commit_pattern = re.search(r'regex\("([^"]+)", var\.git_commit\)', variables).group(1)
    url_pattern = url_pattern.replace("\\\\", "\\")
    good = ["https://github.com/you/rust-tracing-lab.git", "https://git.example.org:8443/lab/rust-tracing-lab"]
    bad = [
        "https://example.org/x.git'; rm -rf /; '",
        "https://example.org/$(id).git",
        "https://user:secret@example.org/x.git",
        "https://example.org/x.git?ref=main",
        "https://example.org/x `id`",
        "http://example.org/x.git",
    ]
    for url in good:
        assert re.fullmatch(url_pattern, url), url
    for url in bad:
        assert not re.fullmatch(url_pattern, url), url
    assert re.fullmatch(commit_pattern, "0123456789abcdef0123456789abcdef01234567")
    for ref in ["main", "v1.0.0", "0123456", "0123456789abcdef0123456789abcdef0123456'"]:
        assert not re.fullmatch(commit_pattern, ref), ref
