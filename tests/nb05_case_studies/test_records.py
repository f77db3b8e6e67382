"""Notebook 05, data processing: deterministic records, equal results per chunksize, cleanup,
the verdict on one CPU, the checker, bad input."""
import functools
import tempfile

import pytest

from helpers.core import machine, runner
from helpers.nb05_case_studies import figures, records


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers, tmp_path, monkeypatch):
    """Temporary folders go to this test's own directory, which must be empty afterwards
    (other runs of the lab on this machine may have folders of their own in /tmp)."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "TemporaryDirectory",
                        functools.partial(tempfile.TemporaryDirectory, dir=scratch))
    yield scratch
    assert list(scratch.iterdir()) == []


def test_records_are_deterministic_and_parse():
    with records.session_records(40, 3, 10) as first, records.session_records(40, 3, 10) as again:
        assert first == again and len(first) == 40
    with records.session_records(40, 3, 10, seed=1) as other:
        assert other != first
    summary = records.combine([records.summarise(line) for line in first])
    assert summary["sessions"] == 40
    assert summary["requests"] == sum(summary["endpoints"].values()) >= 40 * 5
    assert 0 <= summary["errors"] <= summary["requests"]
    assert all(":id" in e or not e.split("/")[-1].isdigit() for e in summary["endpoints"])


def test_the_folder_is_removed_even_after_an_error(nothing_left_behind):
    with pytest.raises(RuntimeError):
        with records.session_records(10, 2, 4):
            folders = list(nothing_left_behind.glob("lab-records-*"))
            assert len(folders) == 1 and len(list(folders[0].glob("*.jsonl"))) == 2
            raise RuntimeError("boom")
    assert not folders[0].exists()


def test_write_logs_writes_the_files_asked_for(tmp_path):
    paths = records.write_logs(tmp_path, records=25, files=4, events=6)
    assert [p.name for p in paths] == [f"sessions-{n:03d}.jsonl" for n in range(4)]
    assert len(records.read_records(paths)) == 25


def test_chunking_measures_every_way_and_agrees():
    result = records.chunking(records=120, chunksizes=[1, 8, 120], workers=2, repeats=1)
    assert result.chunksizes == [1, 8, 120]
    assert result.messages(1) == 120 and result.messages(8) == 15 and result.messages(120) == 1
    assert result.automatic == runner.automatic_chunksize(120, 2) == 15
    assert result.sequential > 0 and result.threads > 0 and all(s > 0 for s in result.seconds.values())
    assert result.summary["sessions"] == 120
    assert result.best in result.seconds
    text = records.chunking_verdict(result)
    assert text.details.startswith("On this machine") and f"best chunksize was {result.best:,}" in text.headline
    figure = figures.record_chunking(result)
    assert figure.axes[0].get_xscale() == "log"


def test_default_chunksizes_run_from_one_to_all():
    result = records.chunking(records=64, workers=2, repeats=1)
    assert result.chunksizes == [1, 4, 8, 16, 32, 64]


def test_verdict_on_one_usable_cpu_claims_no_speedup():
    result = records.Chunking(records=100, workers=2, usable_cpus=1, start_method="fork",
                              automatic=13, sequential=0.010, threads=0.012,
                              seconds={1: 0.05, 13: 0.012, 100: 0.011}, summary={})
    text = records.chunking_verdict(result)
    assert "one usable CPU" in text and "no chunksize can beat the plain loop" in text


def test_verdict_names_the_idle_worker_and_the_cost_per_chunk():
    result = records.Chunking(records=100, workers=2, usable_cpus=2, start_method="fork",
                              automatic=13, sequential=0.010, threads=0.012,
                              seconds={1: 0.05, 13: 0.006, 100: 0.011}, summary={})
    text = records.chunking_verdict(result)
    assert "round trip" in text and "1 worker sat idle" in text and "1.67× the loop" in text


def test_checker_answers():
    assert records.check_chunksize(None).startswith("Not yet")
    assert records.check_chunksize(2.5).startswith("Not yet")
    assert records.check_chunksize(0, records=100).startswith("Not yet")
    good = records.check_chunksize(13, records=100, workers=2)
    assert good.startswith(("Right: ", "Not yet: ")) and "chunksize 13" in good
    one_chunk = records.check_chunksize(100, records=100, workers=2)
    if machine.usable_cpus().value > 1:
        assert one_chunk.startswith("Not yet") and "nothing to do" in one_chunk


BAD_INPUT_CASES = [
    pytest.param(lambda: records.chunking(records=0), r"records must be an integer from 1",
                 id="records-chunking-0"),
    pytest.param(lambda: records.chunking(records=2.5), r"records must be an integer from 1",
                 id="records-chunking-float"),
    pytest.param(lambda: records.chunking(records=True), r"records must be an integer from 1",
                 id="records-chunking-bool"),
    pytest.param(lambda: records.chunking(records=10**9), r"records must be an integer from 1",
                 id="records-chunking-huge"),
    pytest.param(lambda: records.chunking(records=10, chunksizes=[0]),
                 r"each chunksize must be an integer from 1 to 10", id="records-chunksize-0"),
    pytest.param(lambda: records.chunking(records=10, chunksizes=[11]),
                 r"each chunksize must be an integer from 1 to 10", id="records-chunksize-big"),
    pytest.param(lambda: records.chunking(records=10, chunksizes=[-1]),
                 r"each chunksize must be an integer from 1 to 10", id="records-chunksize-neg"),
    pytest.param(lambda: records.chunking(records=10, chunksizes=[2.5]),
                 r"each chunksize must be an integer", id="records-chunksize-float"),
    pytest.param(lambda: records.chunking(records=10, chunksizes=[]),
                 r"chunksizes must be a non-empty list", id="records-chunksizes-empty"),
    pytest.param(lambda: records.chunking(records=10, chunksizes="16"),
                 r"chunksizes must be a non-empty list", id="records-chunksizes-str"),
    pytest.param(lambda: records.chunking(workers=0), r"workers for processes must be an integer",
                 id="records-workers-0"),
    pytest.param(lambda: records.chunking(workers=True), r"workers for processes must be an integer",
                 id="records-workers-bool"),
    pytest.param(lambda: records.chunking(workers=10**9), r"workers for processes must be an integer",
                 id="records-workers-huge"),
    pytest.param(lambda: records.chunking(repeats=0), r"repeats must be an integer from 1 to 20",
                 id="records-repeats-0"),
    pytest.param(lambda: records.chunking(repeats=2.5), r"repeats must be an integer from 1 to 20",
                 id="records-repeats-float"),
    pytest.param(lambda: records.session_records(records=-1).__enter__(),
                 r"records must be an integer from 1", id="records-set-negative"),
    pytest.param(lambda: records.session_records(records=10, files=11).__enter__(),
                 r"files must be an integer from 1 to 10", id="records-set-more-files-than-records"),
    pytest.param(lambda: records.session_records(events=1).__enter__(),
                 r"events must be an integer from 2", id="records-set-events-1"),
    pytest.param(lambda: records.session_records(records=20_000, events=1_000).__enter__(),
                 r"records × events must be at most 2,000,000", id="records-set-too-many-events"),
    pytest.param(lambda: records.session_records(seed=1.5).__enter__(),
                 r"seed must be an integer", id="records-set-seed-float"),
    pytest.param(lambda: records.write_logs("/nonexistent-lab-folder"),
                 r"folder must be an existing directory", id="records-write-no-folder"),
    pytest.param(lambda: runner.automatic_chunksize(0, 2, records.MAX_RECORDS), r"tasks must be an integer from 1",
                 id="records-auto-tasks-0"),
    pytest.param(lambda: runner.automatic_chunksize(10, 0, records.MAX_RECORDS), r"workers for processes must be an integer",
                 id="records-auto-workers-0"),
    pytest.param(lambda: records.check_chunksize(10, records=0), r"records must be an integer from 1",
                 id="records-check-records-0"),
    pytest.param(lambda: records.check_chunksize(10, workers=2.5),
                 r"workers for processes must be an integer", id="records-check-workers-float"),
]



def test_an_interrupt_mid_run_leaves_nothing_behind():
    seen = []

    def interrupt(done, total):
        seen.append(done)
        if done == 3:  # after the loop, threads and the first process-pool map
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        records.chunking(records=200, chunksizes=[1, 50], workers=2, repeats=2, progress=interrupt)
    assert seen == [1, 2, 3]
    # no_leftovers (autouse) then checks: no child process, no lab- thread, no lab-records- folder
