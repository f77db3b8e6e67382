"""Notebook 06 (choosing): the quick re-measurement, its infographic, guide and verdict."""
import dataclasses
import os
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path

import pytest
from matplotlib.figure import Figure
from helpers.core import style
from helpers.nb06_choosing import figures, summary
from helpers.nb06_choosing.summary import Quantity, Summary


def _exists(name: str) -> bool:
    return os.path.exists(os.path.join("/dev/shm", name.lstrip("/")))


def fake(**changes) -> Summary:
    """A Summary with made-up numbers, distinct enough to find in text."""
    def q(value, unit):
        return Quantity(value, unit, "made up for a test")

    made_up = Summary(
        usable_cpus=4, python="CPython 3.11.7", gil_enabled=True, start_method="forkserver",
        workers={"cpu": 4, "gil_free": 4, "io": 16},
        speedups={"cpu": {"threads": q(0.97, "×"), "processes": q(3.61, "×")},
                  "gil_free": {"threads": q(3.42, "×"), "processes": q(3.28, "×")},
                  "io": {"threads": q(15.3, "×"), "processes": q(12.7, "×")}},
        thread_start=q(61.0, "µs"), process_start=q(7.43, "ms"), transfer_bytes=2**20,
        queue_rate=q(1234.0, "MB/s"), shared_rate=q(9876.0, "MB/s"), message_latency=q(47.0, "µs"),
        thread_memory=q(0.0123, "MiB"), process_memory=q(17.6, "MiB"), deposits=200_000,
        lost_racy=q(123_456, "updates"), lost_locked=q(0, "updates"), seconds=5.5,
    )
    return dataclasses.replace(made_up, **changes)


@pytest.fixture(scope="module")
def measured():
    """One real measurement for the module; every shared-memory segment it made is gone after.
    (Segments are tracked by name: other programs may use /dev/shm at the same time.)"""
    created, original = [], SharedMemory.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if kwargs.get("create") or (len(args) > 1 and args[1]):
            created.append(self.name)

    steps = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(SharedMemory, "__init__", spy)
        result = summary.measure(progress=lambda done, total: steps.append((done, total)))
    assert created, "the transfer measurement should have used shared memory"
    assert not [name for name in created if _exists(name)]
    return result, steps


def test_measure_shapes_units_and_sources(measured, no_leftovers):
    result, steps = measured
    assert steps[-1][0] == steps[-1][1] and [d for d, _ in steps] == sorted(d for d, _ in steps)
    assert set(result.speedups) == {"cpu", "gil_free", "io"}
    for kind, backends in result.speedups.items():
        assert set(backends) == {"threads", "processes"}
        for value in backends.values():
            assert value.unit == "×" and value.value > 0 and value.source
    assert result.workers["io"] >= result.workers["cpu"] >= 2
    units = {"thread_start": "µs", "process_start": "ms", "queue_rate": "MB/s",
             "shared_rate": "MB/s", "message_latency": "µs", "thread_memory": "MiB",
             "process_memory": "MiB", "lost_racy": "updates", "lost_locked": "updates"}
    for name, unit in units.items():
        figure = getattr(result, name)
        assert figure.unit == unit and figure.source, name
    assert result.process_start.value > 0 and result.thread_start.value > 0
    assert result.queue_rate.value > 0 and result.shared_rate.value > 0
    assert result.lost_racy.value > 0          # some updates lost: never an exact count
    assert result.lost_locked.value == 0       # the lock makes it exact
    assert result.deposits in (600_000, 1_200_000)   # three trials, or six if three lost nothing
    assert result.usable_cpus >= 1 and result.start_method in ("fork", "forkserver", "spawn")
    assert 0 < result.seconds < 120


def test_measured_figures_draw_and_read(measured, tmp_path, no_leftovers):
    result, _ = measured
    for draw in (figures.infographic, figures.decision_guide):
        figure = draw(result)
        assert isinstance(figure, Figure)
        assert tuple(figure.get_size_inches() * figure.dpi) == (1600, 1000)
    said = summary.verdict(result)
    assert "\n" not in said.headline and said.details.count("\n") == 3


def test_infographic_is_1600_by_1000_and_quotes_headlines():
    s = fake()
    figure = figures.infographic(s)
    assert figure.dpi == 100 and tuple(figure.get_size_inches()) == (16, 10)
    shown = " ".join(t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text")))
    for line in summary.headlines(s).values():
        assert line in shown
    assert "4 usable CPUs" in shown and "forkserver" in shown


def test_guide_quotes_the_numbers():
    s = fake()
    text = "\n".join(summary.guide_text(s))
    for quoted in ("15.3×", "3.6×", "7.4 ms", "17.6 MiB", "3.4×", "9.9 GB/s", "1.2 GB/s",
                   "47 µs", "123,456", "of 200,000", "13 KiB"):
        assert quoted in text, quoted
    figure = figures.decision_guide(s)
    drawn = " ".join(t.get_text().replace("\n", " ") for t in figure.axes[0].texts)
    for quoted in ("15.3×", "3.6×", "9.9 GB/s", "123,456"):
        assert quoted in drawn, quoted
    assert tuple(figure.get_size_inches() * figure.dpi) == (1600, 1000)


def test_guide_text_is_every_question_with_both_answers():
    lines = summary.guide_text(fake())
    questions = [line for line in lines if line[:2] in {f"{n}." for n in range(1, 6)}]
    assert len(questions) == 5
    assert sum(line.strip().startswith("Yes →") for line in lines) == 5
    assert sum(line.strip().startswith("No →") for line in lines) == 5


def test_verdict_quotes_numbers_and_is_honest_about_one_cpu():
    text = summary.verdict(fake())
    for quoted in ("3.6×", "1.0×", "15.3×", "7.4 ms", "61 µs", "9.9 GB/s", "123,456"):
        assert quoted in text, quoted
    one = fake(usable_cpus=1, workers={"cpu": 2, "gil_free": 2, "io": 8})
    assert "one usable CPU" in summary.verdict(one)
    assert "one usable CPU" in " ".join(summary.guide_text(one))
    busy = fake(speedups={**fake().speedups,
                          "cpu": {"threads": Quantity(0.9, "×", "x"), "processes": Quantity(1.0, "×", "x")}})
    assert "busy" in summary.verdict(busy)


def test_quote_formats_per_unit():
    assert summary.quote(1.94, "×") == "1.9×"
    assert summary.quote(7.25, "ms") == "7.2 ms" or summary.quote(7.25, "ms") == "7.3 ms"
    assert summary.quote(420.4, "ms") == "420 ms"
    assert summary.quote(0.5, "MiB") == "512 KiB"
    assert summary.quote(12345.6, "MB/s") == "12.3 GB/s"
    assert summary.quote(1000, "updates") == "1,000"


def test_save_png_writes_a_1600_by_1000_png(tmp_path):
    from PIL import Image

    written = style.save_png(figures.infographic(fake()), tmp_path / "mine.png")
    assert written == (tmp_path / "mine.png").resolve() and written.exists()
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(written) as image:
        assert image.size == (1600, 1000)


def test_speedup_workers_follow_usable_cpus():
    assert summary.speedup_workers(1) == {"cpu": 2, "gil_free": 2, "io": 8}
    assert summary.speedup_workers(2)["io"] == 8


BAD_INPUT_CASES = [
    pytest.param(lambda: style.save_png("not a figure", "/tmp/x.png"), "matplotlib Figure",
                 id="save_png-figure"),
    pytest.param(lambda: style.save_png(Figure(), "/tmp/x.jpg"), "ending in .png", id="save_png-suffix"),
    pytest.param(lambda: style.save_png(Figure(), ""), "ending in .png", id="save_png-empty"),
    pytest.param(lambda: style.save_png(Figure(), 2.5), "ending in .png", id="save_png-number"),
    pytest.param(lambda: style.save_png(Figure(), True), "ending in .png", id="save_png-bool"),
    pytest.param(lambda: style.save_png(Figure(), "/no/such/folder/x.png"), "existing folder",
                 id="save_png-missing-folder"),
    pytest.param(lambda: style.save_png(Figure(), Path("/etc/hostname/x.png")), "existing folder",
                 id="save_png-folder-is-a-file"),
    pytest.param(lambda: summary.measure(progress=5), "progress must be", id="measure-progress"),
    pytest.param(lambda: summary.speedup_workers(0), "usable_cpus must be an integer",
                 id="speedup_workers-0"),
    pytest.param(lambda: summary.speedup_workers(2.5), "usable_cpus must be an integer",
                 id="speedup_workers-float"),
    pytest.param(lambda: summary.speedup_workers(True), "usable_cpus must be an integer",
                 id="speedup_workers-bool"),
    pytest.param(lambda: summary.speedup_workers(-1), "usable_cpus must be an integer",
                 id="speedup_workers-negative"),
    pytest.param(lambda: summary.speedup_workers(10**9), "usable_cpus must be an integer",
                 id="speedup_workers-huge"),
]



def test_save_png_rejects_a_folder(tmp_path):
    folder = tmp_path / "looks.png"
    folder.mkdir()
    with pytest.raises(ValueError, match="not a folder"):
        style.save_png(Figure(), folder)


def test_threads_beating_the_gil_on_pure_python_is_called_noise_not_a_missing_gil():
    assert "without the GIL" in summary._cpu_meaning(1.0, 1.5, gil=False)
    said = summary._cpu_meaning(0.3, 1.4, gil=True)
    assert "without the GIL" not in said and "measure again" in said


def test_the_guide_sends_pure_python_to_threads_too_on_a_free_threaded_build():
    backend, _, _ = summary.guide_steps(fake(gil_enabled=False))
    assert backend[1].yes.startswith("Threads or processes") and "no GIL" in backend[1].yes
    backend, _, _ = summary.guide_steps(fake(gil_enabled=True))
    assert backend[1].yes.startswith("Processes")


# --- other platforms (simulated: the lab is tested on Linux) -------------------------------------


def test_off_linux_process_memory_is_uss_and_says_so_never_0_kib(monkeypatch):
    """psutil has PSS on Linux only (0 elsewhere): the infographic said a process cost 0 KiB."""
    added = {"threads": summary.spawning.Usage(0.02, 0.03, 0.0),
             "spawn": summary.spawning.Usage(25.0, 60.0, 0.0)}    # no PSS: as psutil off Linux
    monkeypatch.setattr(summary.spawning, "memory_added", lambda backend, counts: [added[backend]])
    monkeypatch.setattr(summary.sys, "platform", "darwin")
    thread, process = summary._memory("spawn", count=2)
    assert process.value == 12.5 and process.unit == "MiB"
    assert process.source == ("USS added by 2 idle spawn processes ÷ 2 "
                              "(psutil; no PSS on this platform)")
    assert thread.value == 0.01 and thread.source.startswith("USS added by 2 idle threads")
    assert "0 KiB" not in summary.headlines(fake(process_memory=process))["memory"]

    added["spawn"] = summary.spawning.Usage(25.0, 60.0, 0.0, 2)   # and macOS refused USS
    assert summary._memory("spawn", count=2)[1].source.endswith(
        "(psutil; no PSS on this platform); macOS denied USS for 2 processes; RSS shown")

    added["spawn"] = summary.spawning.Usage(25.0, 60.0, 8.0)
    monkeypatch.setattr(summary.sys, "platform", "linux")         # on Linux: PSS, as before
    process = summary._memory("spawn", count=2)[1]
    assert process.value == 4.0 and process.source.startswith("PSS added by 2 idle spawn processes")
