"""Notebook 05, image processing: exact tiles, every way equal, cleanup, verdicts, bad input."""
import os
from contextlib import contextmanager

import numpy as np
import pytest

from helpers.core import machine, runner, shm
from helpers.nb05_case_studies import figures, images, panels


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers, monkeypatch):
    """No child, no lab thread, and none of the segments this test created left in /dev/shm
    (only ours are checked: other programs may make and remove segments meanwhile)."""
    created = []
    original = shm.shared_array

    @contextmanager
    def recorded(*args, **kwargs):
        with original(*args, **kwargs) as shared:
            created.append(shared.segment.name.lstrip("/"))
            yield shared

    monkeypatch.setattr(shm, "shared_array", recorded)
    yield created
    if os.path.isdir(shm.SHM_PATH):
        left = [name for name in created if name in os.listdir(shm.SHM_PATH)]
        assert not left, f"shared-memory segments left in /dev/shm: {left}"


def test_render_is_deterministic_greyscale():
    first, second = images.render(64), images.render(64)
    assert first.shape == (64, 64) and first.dtype == np.uint8
    assert np.array_equal(first, second)
    assert first.min() < 50 and first.max() == 255  # background and the set itself
    first[:] = 7  # a copy: the cached render is not changed through it
    assert np.array_equal(images.render(64), second)


def test_the_two_kernels_give_the_same_pixels():
    padded = images.pad(images.render(80))
    python, numpy = images.sobel_python(padded), images.sobel_numpy(padded)
    assert python.shape == numpy.shape == (80, 80) and python.dtype == np.uint8
    assert np.array_equal(python, numpy)
    assert numpy.max() > 0


@pytest.mark.parametrize("tiles", [1, 2, 3, 7, 50])
def test_tiles_with_a_halo_stitch_to_the_whole_image(tiles):
    padded = images.pad(images.render(50))
    whole = images.sobel_numpy(padded)
    chunks = images.bands(50, tiles)
    assert chunks[0][0] == 0 and chunks[-1][1] == 50 and len(chunks) == tiles
    stitched = np.concatenate([images.sobel_python(padded[a:b + 2]) for a, b in chunks])
    assert np.array_equal(stitched, whole)


def test_every_way_and_kernel_gives_the_sequential_image():
    result = images.tiled(size=96, workers=2, tiles=3, repeats=1)
    assert result.kernels == images.KERNELS
    for kernel in images.KERNELS:
        assert result.ways(kernel) == images.WAYS
        assert all(seconds > 0 for seconds in result.seconds[kernel].values())
        assert result.speedup(kernel, "sequential") == 1
        assert result.winner(kernel) in images.WAYS
    assert result.kernels_agree is True
    assert np.array_equal(result.after, images.sobel_python(images.pad(result.before)))
    assert result.bounds == tuple(images.bands(96, 3))
    text = images.verdict(result)
    assert "Pure Python" in text and "NumPy" in text and "pixel for pixel" in text


def test_a_way_that_gives_other_pixels_is_caught(monkeypatch):
    broken = dict(images.KERNEL_FUNCTIONS, numpy=lambda padded: images.sobel_python(padded) // 2)
    monkeypatch.setattr(images, "KERNEL_FUNCTIONS", broken)
    with pytest.raises(AssertionError, match="different image"):
        images.tiled(size=40, workers=2, kernels=("numpy",), ways=("sequential", "threads"),
                     repeats=1)


def test_an_error_in_a_worker_cleans_up_pools_and_segments(monkeypatch, nothing_left_behind):
    original = images.filter_band

    def failing(kernel, padded, out, start, stop):
        raise RuntimeError("tile failed")

    monkeypatch.setattr(images, "filter_band", failing)
    with pytest.raises(RuntimeError, match="tile failed"):
        images.tiled(size=40, workers=2, ways=("sequential", "shared memory", "threads"),
                     repeats=1)
    monkeypatch.setattr(images, "filter_band", original)
    assert len(nothing_left_behind) == 2  # the image and the output were in shared memory


def test_an_interrupt_mid_run_leaves_nothing_behind():
    def interrupt(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        images.tiled(size=64, workers=2, repeats=2, progress=interrupt)


def test_more_workers_than_tiles_allowed_share_the_tiles():
    result = images.tiled(size=16, workers=20, kernels=("numpy",), ways=("sequential", "threads"),
                          repeats=1)
    assert result.tiles == 16 and result.workers == 20


def test_progress_reports_every_round():
    seen = []
    images.tiled(size=40, workers=2, kernels=("python",), ways=("sequential", "threads"),
                 repeats=2, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 2), (2, 2)]


def test_one_worker_verdict_says_nothing_ran_in_parallel():
    result = images.trial("numpy", "threads", workers=1, size=48)
    assert result.kernels == ("numpy",) and result.ways("numpy") == ("sequential", "threads")
    assert result.kernels_agree is None
    assert "nothing could run in parallel" in images.verdict(result)


def test_verdict_on_one_usable_cpu_and_on_ties():
    seconds = {"python": {"sequential": 1.0, "threads": 1.02, "processes": 0.55,
                          "shared memory": 0.52}}
    image = np.zeros((16, 16), np.uint8)
    many = images.Tiled(16, 2, 2, 2, "spawn", seconds, image, image, ((0, 8), (8, 16)), None)
    text = images.verdict(many)
    assert "fastest with shared memory" in text and "a tie with processes" in text
    assert "1.92×" in text
    assert "threads 0.98×" not in text.headline and "threads 0.98×" in text.details  # one figure up top
    one = images.Tiled(16, 2, 2, 1, "spawn", seconds, image, image, ((0, 8), (8, 16)), None)
    assert "only 1 CPU, so nothing could run in parallel" in images.verdict(one)
    slow = {"numpy": {"sequential": 0.001, "threads": 0.002}}
    assert "fastest sequentially" in images.verdict(
        images.Tiled(16, 2, 2, 2, "spawn", slow, image, image, ((0, 8), (8, 16)), None))


def test_figures_have_what_they_promise():
    result = images.tiled(size=48, workers=2, repeats=1, ways=("sequential", "threads"))
    pair = figures.image_before_after(result)
    assert len(pair.axes) == 2 and "before" in pair.axes[0].get_title()
    bars = figures.image_times(result)
    assert len(bars.axes) == 2
    assert all("ms" in ax.get_ylabel() for ax in bars.axes)


def test_blur_checker_judges_honestly():
    def good(padded):
        h, w = padded.shape[0] - 2, padded.shape[1] - 2
        wide = padded.astype(np.int32)
        return (sum(wide[i:i + h, j:j + w] for i in range(3) for j in range(3)) // 9).astype(np.uint8)

    def wrapped(padded):
        h, w = padded.shape[0] - 2, padded.shape[1] - 2
        return sum(padded[i:i + h, j:j + w] for i in range(3) for j in range(3)) // 9

    assert images.check_blur(good).startswith("Right")
    assert "wrapped" in images.check_blur(wrapped)
    assert "unchanged" in images.check_blur(lambda p: p[1:-1, 1:-1].copy())
    assert "shape" in images.check_blur(lambda p: p)
    assert "as slow" in images.check_blur(images.blur_python) or \
        "took" in images.check_blur(images.blur_python)
    assert images.check_blur(None).startswith("Not yet")
    assert "ZeroDivisionError" in images.check_blur(lambda p: 1 / 0)


def test_panel_runs_one_way_and_reports_bad_values():
    panel = panels.image_panel()
    assert set(panel.controls) == {"kernel", "way", "workers", "size"}
    panel.controls["kernel"].value = "numpy"
    panel.controls["way"].value = "threads"
    panel.controls["workers"].value = 2
    panel.controls["size"].value = 64
    panel.start()
    panel.wait(60)
    assert panel.last_error is None, panel.last_error
    assert panel.status.value == "done"
    panel.controls["size"].min = 1
    panel.controls["size"].value = 1
    panel.start()
    panel.wait(60)
    assert isinstance(panel.last_error, ValueError)
    assert panel.status.value.startswith("not run: image size")


BAD_INPUT_CASES = [
    *[pytest.param(lambda size=size: images.render(size), "image size \\(pixels\\) must be an integer from 16 to 2,000",
                   id=f"render size {size!r}") for size in (2.5, True, 0, -1, 10**9)],
    *[pytest.param(lambda size=size: images.tiled(size=size), "image size", id=f"tiled size {size!r}")
      for size in (2.5, True, 0, -1, 10**9)],
    *[pytest.param(lambda workers=workers: images.tiled(size=32, workers=workers),
                   "workers for processes must be an integer from 1 to", id=f"tiled workers {workers!r}")
      for workers in (2.5, True, 0, -1, 10**9)],
    *[pytest.param(lambda tiles=tiles: images.tiled(size=32, tiles=tiles),
                   "tiles must be an integer from 1 to 32", id=f"tiled tiles {tiles!r}")
      for tiles in (2.5, True, 0, -1, 33, 10**9)],
    *[pytest.param(lambda repeats=repeats: images.tiled(size=32, repeats=repeats),
                   "repeats must be an integer from 1 to 20", id=f"tiled repeats {repeats!r}")
      for repeats in (2.5, True, 0, -1, 10**9)],
    pytest.param(lambda: images.tiled(size=32, kernels=("rust",)), "unknown kernel 'rust'; allowed: python, numpy",
                 id="tiled kernel"),
    pytest.param(lambda: images.tiled(size=32, kernels="python"), "kernels must be a non-empty list",
                 id="tiled kernels string"),
    pytest.param(lambda: images.tiled(size=32, ways=()), "ways must be a non-empty list", id="tiled no ways"),
    pytest.param(lambda: images.tiled(size=32, ways=("threads", "threads")), "each way may be listed once",
                 id="tiled ways twice"),
    pytest.param(lambda: images.tiled(size=32, ways=("gpu",)), "unknown way 'gpu'; allowed: sequential",
                 id="tiled way"),
    pytest.param(lambda: images.tiled(size=32, start_method="teleport"), "unknown start method",
                 id="tiled start method"),
    pytest.param(lambda: images.trial(kernel="c"), "unknown kernel", id="trial kernel"),
    pytest.param(lambda: images.trial(way="mpi"), "unknown way", id="trial way"),
    *[pytest.param(lambda size=size: images.trial(size=size), "image size", id=f"trial size {size!r}")
      for size in (2.5, True, 0, -1, 10**9)],
    *[pytest.param(lambda workers=workers: images.trial(workers=workers), "workers for processes",
                   id=f"trial workers {workers!r}") for workers in (2.5, True, 0, -1, 10**9)],
    pytest.param(lambda: images.render(32, iterations=0), "iterations must be an integer from 1 to 1,000",
                 id="render iterations"),
]



def test_bad_input_does_no_work():
    assert runner.worker_processes() == []
    with pytest.raises(ValueError):
        images.tiled(size=32, kernels=("python", "nope"))
    assert runner.worker_processes() == []
    assert machine.usable_cpus().value >= 1
