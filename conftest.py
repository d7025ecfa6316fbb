"""Fixtures shared by the Python test suites under this folder (docker/, notebooks/, ...): one
real Jaeger for the whole run, started on loopback ports of its own choosing."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "tools"))

from loopback_servers import running_jaeger


@pytest.fixture(scope="session")
def jaeger(tmp_path_factory):
    """Jaeger 2.12.0 (tools/jaeger/), memory storage, every port on loopback: see running_jaeger."""
    with running_jaeger(tmp_path_factory.mktemp("jaeger")) as running:
        yield running
