"""kernel-setup/rust-kernel, which starts the Rust kernel, on the real kernel as setup.sh registers it.

- Two kernels running at once compile in two folders; a kernel started after one of them stopped
  takes the folder it left, with what was compiled there.
- In a folder a previous kernel left, the first `:dep` cell finds the crates compiled: it takes
  nothing from evcxr's cache (no cache entry of tracelab is hit; test_kernel_cache.py shows a
  kernel in a new folder taking tracelab from it).
- A folder given in EVCXR_TMPDIR (kernel-setup/warm_cache.py's) is used as it is.
- With no folder free, the kernel does not start and says why.
"""

import fcntl
import os
import subprocess
from pathlib import Path

from jupyter_client import KernelManager
from test_kernel_cache import run_the_first_cell_of_lesson_01, tracelab_hits

HERE = Path(__file__).resolve().parent


def start_kernel(folders, **env):
    manager = KernelManager(kernel_name="rust")
    manager.start_kernel(env={**os.environ, "KERNEL_FOLDERS": str(folders), **env})
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    return manager, client


def compile_folder(client):
    """The folder the kernel compiles in, as the kernel's own process sees it."""
    printed = []

    def output(message):
        if message["msg_type"] == "stream":
            printed.append(message["content"]["text"])

    reply = client.execute_interactive(
        'println!("{}", std::env::var("EVCXR_TMPDIR").unwrap());', timeout=120, output_hook=output
    )
    assert reply["content"]["status"] == "ok", reply["content"]
    return Path("".join(printed).strip())


def stop(manager, client):
    client.stop_channels()
    manager.shutdown_kernel()


def test_kernels_at_once_compile_in_folders_of_their_own_and_a_later_one_reuses_a_free_folder(kernel_folders):
    first, first_client = start_kernel(kernel_folders)
    try:
        second, second_client = start_kernel(kernel_folders)
        try:
            assert compile_folder(first_client) == kernel_folders / "1"
            assert compile_folder(second_client) == kernel_folders / "2"
        finally:
            stop(second, second_client)
        compiled = kernel_folders / "2" / "target"
        assert compiled.is_dir(), "the folder of a stopped kernel was removed with what it compiled"
        third, third_client = start_kernel(kernel_folders)
        try:
            assert compile_folder(third_client) == kernel_folders / "2"
        finally:
            stop(third, third_client)
    finally:
        stop(first, first_client)


def test_a_folder_given_in_evcxr_tmpdir_is_the_one_the_kernel_compiles_in(kernel_folders):
    # kernel-setup/warm_cache.py gives each set of crates a folder of its own so.
    given = kernel_folders / "given"
    manager, client = start_kernel(kernel_folders, EVCXR_TMPDIR=str(given))
    try:
        assert compile_folder(client) == given
    finally:
        stop(manager, client)
    assert not (kernel_folders / "1").exists()


def test_in_a_folder_a_kernel_left_the_first_dep_cell_finds_the_crates_compiled(kernel_folders):
    run_the_first_cell_of_lesson_01(kernel_folders)  # compiles, or takes from the cache, in folder 1
    before = tracelab_hits()
    run_the_first_cell_of_lesson_01(kernel_folders)  # folder 1 again
    assert tracelab_hits() == before, "a kernel in a folder another kernel left took tracelab from evcxr's cache again"


def test_with_no_folder_free_the_kernel_says_so(kernel_folders):
    kernel_folders.mkdir(parents=True)
    held = []
    try:
        for number in range(1, 65):
            lock = open(kernel_folders / f"{number}.lock", "w")
            held.append(lock)
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        run = subprocess.run(
            [str(HERE / "rust-kernel"), "--help"],
            env={**os.environ, "KERNEL_FOLDERS": str(kernel_folders)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    finally:
        for lock in held:
            lock.close()
    assert run.returncode != 0
    assert run.stderr.strip().splitlines() == [
        f"rust-kernel: error: all 64 kernel folders in {kernel_folders} are in use: stop a running kernel and start this one again"
    ]
