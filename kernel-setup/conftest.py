"""What the kernel-setup tests share."""

import os
import shutil
import uuid
from pathlib import Path

import pytest


@pytest.fixture
def kernel_folders():
    """A folder for kernel-setup/rust-kernel's compile folders (KERNEL_FOLDERS), new to every test.
    Under the folder whose `.cargo/config.toml` setup.sh writes, as the kernels' own folders are:
    it has cargo compile tracelab so that evcxr's cache keeps it."""
    folders = Path(f"/var/tmp/tracing-lab-{os.getuid()}") / f"test-kernels-{uuid.uuid4().hex[:8]}"
    yield folders
    shutil.rmtree(folders, ignore_errors=True)
