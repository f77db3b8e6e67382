import pickle
import time

import pytest

from helpers.core import workloads


def test_each_kind_is_a_picklable_module_level_function():
    for kind, task in workloads.TASKS.items():
        assert pickle.loads(pickle.dumps(task)) is task
        assert task.__module__ == "helpers.core.workloads"


def test_tasks_do_real_work():
    assert workloads.cpu(10) == sum(i * i % 7 for i in range(10))
    assert len(workloads.gil_free(10)) == 64
    assert workloads.io(0.001) == 0.001


def test_calibrate_is_cached_per_process():
    assert workloads.calibrate() is workloads.calibrate()


@pytest.mark.parametrize("kind", workloads.KINDS)
def test_one_unit_lasts_roughly_the_target(kind):
    """Loose bounds: the point is "about 10 ms", not 10.0. Other test workers share the two
    cores, so a calibration from a quiet moment can meet a busy one (5.4 units seen): up to
    five tries, each a fresh calibration timed right after it is made."""
    for _ in range(5):
        calibration = workloads.calibrate.__wrapped__()   # not the cached one
        task, argument = workloads.TASKS[kind], calibration.argument(kind)
        best = min(_duration(task, argument) for _ in range(3))
        if 0.2 * calibration.unit_seconds < best < 5 * calibration.unit_seconds:
            return
    pytest.fail(f"one {kind} unit took {best * 1000:.1f} ms, calibrated for "
                f"{calibration.unit_seconds * 1000:.0f} ms")


def test_units_scale_the_argument():
    calibration = workloads.calibrate()
    assert calibration.argument("cpu", 2) == pytest.approx(2 * calibration.argument("cpu"), rel=0.01)
    assert calibration.argument("io", 0.5) == pytest.approx(calibration.unit_seconds / 2)


@pytest.mark.parametrize("call, message", [
    (lambda: workloads.calibrate().argument("gpu"), "unknown task kind 'gpu'; allowed: cpu, gil_free, io"),
    (lambda: workloads.calibrate().argument("cpu", 0), "units must be > 0"),
    (lambda: workloads.calibrate(0), "unit_seconds must be between"),
    (lambda: workloads.calibrate(5.0), "unit_seconds must be between"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _duration(task, argument):
    started = time.perf_counter()
    task(argument)
    return time.perf_counter() - started
