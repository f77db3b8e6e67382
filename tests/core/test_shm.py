"""How processes attach to the lab's shared arrays: SharedMemory(track=False) on Python 3.13+,
the shared resource tracker before. Either way no segment and no tracker warning is left."""
import multiprocessing
import os
import subprocess
import sys
import textwrap
from multiprocessing import resource_tracker
from pathlib import Path

import pytest

from helpers.core import shm

ROOT = Path(__file__).resolve().parents[2]
ON_313 = pytest.mark.skipif(sys.version_info < (3, 13),
                            reason="SharedMemory(track=False) exists from Python 3.13")
BEFORE_313 = pytest.mark.skipif(sys.version_info >= (3, 13), reason="the fallback: from Python "
                                "3.13 attaching uses SharedMemory(track=False)")
NEEDS_DEV_SHM = pytest.mark.skipif(not os.path.isdir(shm.SHM_PATH), reason="needs /dev/shm")

# A child target in a file of its own, so a spawn or forkserver child can import it.
ATTACHER = '''
from helpers.core import shm

def double(segment):
    array = shm.attach(segment)
    array *= 2
'''


@pytest.fixture
def registrations(monkeypatch) -> list[str]:
    """Names registered with this process's resource tracker from now on."""
    names: list[str] = []
    real = resource_tracker.register
    monkeypatch.setattr(resource_tracker, "register",
                        lambda name, rtype: (names.append(name), real(name, rtype)))
    return names


def attach_here(segment: shm.Segment) -> None:
    """Attach in this process, touch the memory, and let the view go."""
    array = shm.attach(segment)
    array += 1
    del array


@ON_313
def test_on_3_13_attaching_makes_no_claim_on_the_resource_tracker(registrations):
    with shm.shared_array(8) as shared:
        created = list(registrations)
        attach_here(shared.segment)
        assert registrations == created   # the creator's claim alone: track=False was used
        assert shared.array.sum() == 8


@BEFORE_313
def test_before_3_13_attaching_registers_with_the_resource_tracker(registrations):
    with shm.shared_array(8) as shared:
        created = list(registrations)
        attach_here(shared.segment)
        assert registrations == created + created   # the same name again: no track= before 3.13
        assert shared.array.sum() == 8


def run_python(code: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    (tmp_path / "attacher.py").write_text(ATTACHER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)


@NEEDS_DEV_SHM
@pytest.mark.parametrize("method", multiprocessing.get_all_start_methods())
def test_a_child_attaches_and_exits_leaving_no_segment_and_no_tracker_warning(method, tmp_path):
    done = run_python("""
        import multiprocessing, sys
        import attacher
        from helpers.core import shm
        with shm.shared_array(4) as shared:
            shared.array[:] = 1
            shm.share_tracker()
            child = multiprocessing.get_context(sys.argv[1]).Process(
                target=attacher.double, args=(shared.segment,))
            child.start()
            child.join()
            print(shared.segment.name.lstrip("/"), child.exitcode, shared.array.sum())
    """, tmp_path, method)
    assert done.returncode == 0, done.stderr
    name, exitcode, total = done.stdout.split()
    assert (exitcode, total) == ("0", "8.0")
    assert not os.path.exists(os.path.join(shm.SHM_PATH, name))
    assert "resource_tracker" not in done.stderr and "leaked" not in done.stderr, done.stderr


@ON_313
@NEEDS_DEV_SHM
def test_on_3_13_a_process_with_its_own_tracker_attaches_without_unlinking(tmp_path):
    # Before 3.13 the attaching process registers the name with its own tracker, which unlinks
    # the segment when that process ends ("leaked shared_memory objects"): the lab must share
    # its tracker with its children instead (shm.share_tracker).
    done = run_python("""
        import subprocess, sys
        from helpers.core import shm
        attach = "import attacher, sys; from helpers.core import shm; attacher.double(shm.Segment(sys.argv[1], (4,), '<f8'))"
        with shm.shared_array(4) as shared:
            shared.array[:] = 1
            outsider = subprocess.run([sys.executable, "-c", attach, shared.segment.name],
                                      capture_output=True, text=True)
            print(outsider.returncode, shared.array.sum())
            print(outsider.stderr, file=sys.stderr)
    """, tmp_path)
    assert done.returncode == 0, done.stderr   # the creator's unlink found the segment
    assert done.stdout.split() == ["0", "8.0"]   # and the outsider's write in it
    assert "resource_tracker" not in done.stderr and "leaked" not in done.stderr, done.stderr


# --- other platforms (simulated: the lab is tested on Linux) -------------------------------------


def test_share_tracker_is_a_no_op_on_windows(monkeypatch):
    """Windows has no resource tracker for shared memory (a segment lives while a handle is
    open), and ensure_running() fails there: share_tracker() must not call it."""
    def as_on_windows():
        raise ModuleNotFoundError("No module named '_posixsubprocess'")

    monkeypatch.setattr(shm.resource_tracker, "ensure_running", as_on_windows)
    monkeypatch.setattr(shm.sys, "platform", "win32")
    assert shm.share_tracker() is None
    monkeypatch.setattr(shm.sys, "platform", "linux")   # and everywhere else it still starts one
    with pytest.raises(ModuleNotFoundError, match="_posixsubprocess"):
        shm.share_tracker()


def test_without_dev_shm_only_memory_limits_shared_arrays(monkeypatch, tmp_path):
    """macOS and Windows keep shared memory elsewhere: the limit is a quarter of available
    memory, the refusal names memory (not /dev/shm or Docker), and no segment can be listed."""
    monkeypatch.setattr(shm, "SHM_PATH", str(tmp_path / "no-dev-shm"))
    monkeypatch.setattr(shm.psutil, "virtual_memory", lambda: type("Memory", (), {"available": 400 * 2**20}))
    assert shm.free_bytes() is None and shm.room() == 100 * 2**20
    with pytest.raises(ValueError) as refused:
        shm.check_room(101 * 2**20)
    assert "the limit here is 100.0 MiB, as 400 MiB of memory is available" in str(refused.value)
    assert "/dev/shm" not in str(refused.value)
    assert shm.made_by(os.getpid()) == set()
