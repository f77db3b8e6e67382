import pytest
from matplotlib.figure import Figure

from helpers.core import runner, style


@pytest.fixture(scope="module")
def sweep():
    return runner.sweep("io", workers=[1, 2, 4], tasks=8, units=0.2, repeats=2)


def test_speedup_plot_has_both_backends_the_ideal_and_the_usable_mark(sweep):
    figure = style.speedup(sweep)
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "threads" in labels and "processes" in labels
    assert any(label.startswith("ideal") for label in labels)
    assert f"usable CPUs = {sweep.usable_cpus}" in labels
    assert ax.get_xlabel() == "workers" and "(×)" in ax.get_ylabel()


def test_speedups_draws_one_panel_per_sweep(sweep):
    figure = style.speedups([sweep, sweep])
    assert len(figure.axes) == 2


def test_timeline_has_one_row_per_worker_and_one_bar_per_task():
    result = runner.run("io", backend="threads", workers=3, tasks=7, units=0.2)
    figure = style.timeline(result)
    ax = figure.axes[0]
    bars = sum(len(collection.get_paths()) for collection in ax.collections)
    assert bars == 7
    assert [t.get_text() for t in ax.get_yticklabels()] == [f"worker {w}" for w in sorted({s.worker for s in result.spans})]
    assert "(ms)" in ax.get_xlabel() and "CPUs busy" in ax.get_title()


def test_timelines_share_one_time_axis():
    results = [runner.run("io", backend=b, workers=2, tasks=4, units=0.2) for b in ("threads", "processes")]
    figure = style.timelines(results, usable_cpus=2)
    assert len(figure.axes) == 2
    assert figure.axes[0].get_xlim() == figure.axes[1].get_xlim()


def test_to_png_gives_png_bytes(sweep):
    assert style.to_png(style.speedup(sweep)).startswith(b"\x89PNG")
