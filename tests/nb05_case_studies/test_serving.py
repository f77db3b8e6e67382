"""Notebook 05, web server: every kind answers, the port is always freed, the load is counted."""
import os
import signal
import socket
import threading

import pytest
from helpers.nb05_case_studies import figures, serving


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers):
    yield


def _port_is_free(port: int) -> bool:
    """Nobody listens on `port`: a new listening socket can take it (TIME_WAIT aside)."""
    if serving.listening(port):
        return False
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as http.server does
        try:
            probe.bind((serving.HOST, port))
            probe.listen()
        except OSError:
            return False
    return True


@pytest.mark.parametrize("kind", serving.KINDS)
@pytest.mark.parametrize("handler", serving.HANDLERS)
def test_every_kind_answers_and_frees_its_port(kind, handler):
    with serving.server(kind, handler, units=0.1) as running:
        assert not _port_is_free(running.port)
        body = serving.fetch(running.url)
        assert body.startswith(f"{kind} {handler} pid=")
        worker_pid = int(body.split("pid=")[1])
        if kind == "threads + process pool":
            assert worker_pid != os.getpid() and running.pool_workers >= 1
        else:
            assert worker_pid == os.getpid() and running.pool_workers == 0
        result = serving.load(running.url, clients=4, requests=3)
    assert _port_is_free(running.port)
    assert result.total == 12 and len(result.latencies) == 12
    assert result.throughput > 0 and 0 < result.median <= result.p95 <= max(result.latencies)


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("kind", serving.KINDS)
def test_the_port_is_freed_after_an_error_inside_the_block(kind, error):
    with pytest.raises(error):
        with serving.server(kind, "cpu", units=0.1) as running:
            serving.fetch(running.url)
            raise error("inside the block")
    assert _port_is_free(running.port)


def test_an_interrupt_during_the_load_stops_the_clients_and_the_server():
    """A real SIGINT reaches the main thread while it waits for the clients (as Jupyter's ■ does)."""
    main = threading.main_thread().ident
    with pytest.raises(KeyboardInterrupt):
        with serving.server("threads + process pool", "cpu", units=0.5) as running:
            timer = threading.Timer(0.3, signal.pthread_kill, (main, signal.SIGINT))
            timer.name = "lab-test-interrupt"
            timer.start()
            try:
                serving.load(running.url, clients=4, requests=200)  # seconds of work: interrupted
            finally:
                timer.join(5)
    assert _port_is_free(running.port)


def test_a_stopped_server_refuses_and_load_reports_it():
    with serving.server("single", "io", units=0.1) as running:
        pass
    with pytest.raises(RuntimeError, match="client"):
        serving.load(running.url, clients=2, requests=1)


def test_compare_runs_every_pair_reports_progress_and_draws():
    seen = []
    result = serving.compare(clients=4, requests=2, units=0.2, repeats=2,
                             progress=lambda done, total: seen.append((done, total)))
    assert [(s.handler, s.kind) for s in result.runs] == list(serving.PLAN)
    assert seen[-1] == (2 * len(serving.PLAN), 2 * len(serving.PLAN))
    assert all(s.load.total == 8 and s.others_busy >= 0 for s in result.runs)
    assert result.kinds("cpu") == list(serving.KINDS)
    text = serving.verdict(result)
    assert "io" in text and "cpu" in text and "On this machine" in text
    figure = figures.web_server(result)
    assert len(figure.axes) == 4


def _fake(io_gain: float, cpu_threads: float, cpu_pool: float, usable: int) -> serving.Comparison:
    def load(throughput: float) -> serving.Load:
        return serving.Load(1, 10, (0.01,) * 10, 10 / throughput)

    runs = [serving.Served("io", "single", load(100)), serving.Served("io", "threads", load(100 * io_gain)),
            serving.Served("cpu", "single", load(100)), serving.Served("cpu", "threads", load(100 * cpu_threads)),
            serving.Served("cpu", "threads + process pool", load(100 * cpu_pool))]
    return serving.Comparison(16, 10, 2, 5.0, usable, usable, "forkserver", tuple(runs))


def test_verdicts_follow_the_numbers():
    good = serving.verdict(_fake(8.0, 1.0, 1.9, 2))
    assert "requests/s" not in good.headline and "800 against 100 requests/s" in good.details
    assert "threads multiplied" in good and "about the same" in good and "1.9×" in good
    flat = serving.verdict(_fake(1.1, 1.0, 1.05, 2))
    assert "did not multiply" in flat and "only" in flat and "Careful" not in flat
    crowded = _fake(8.0, 1.0, 1.05, 2)
    crowded = serving.Comparison(**{**crowded.__dict__, "runs": tuple(
        serving.Served(s.handler, s.kind, s.load, 1.5) for s in crowded.runs)})
    assert "other programs kept 1.5 of the CPUs" in serving.cpu_verdict(crowded)
    one_cpu = serving.cpu_verdict(_fake(8.0, 1.0, 0.95, 1))
    assert "1 usable CPU" in one_cpu and "cannot help" in one_cpu


BAD_INPUT_CASES = [
    pytest.param(lambda: serving.server("forks", "io").__enter__(), "allowed: single, threads",
                 id="serving-server-kind"),
    pytest.param(lambda: serving.server("threads", "disk").__enter__(), "allowed: io, cpu",
                 id="serving-server-handler"),
    pytest.param(lambda: serving.server("threads", "io", units=0).__enter__(), "units must be",
                 id="serving-server-units-0"),
    pytest.param(lambda: serving.server("threads", "io", units=True).__enter__(), "units must be",
                 id="serving-server-units-bool"),
    pytest.param(lambda: serving.server("threads", "io", units=10**9).__enter__(), "units must be",
                 id="serving-server-units-huge"),
    pytest.param(lambda: serving.load("http://127.0.0.1:1/", clients=0), "clients must be",
                 id="serving-load-clients-0"),
    pytest.param(lambda: serving.load("http://127.0.0.1:1/", clients=2.5), "clients must be",
                 id="serving-load-clients-float"),
    pytest.param(lambda: serving.load("http://127.0.0.1:1/", clients=True), "clients must be",
                 id="serving-load-clients-bool"),
    pytest.param(lambda: serving.load("http://127.0.0.1:1/", requests=10**9), "requests must be",
                 id="serving-load-requests-huge"),
    pytest.param(lambda: serving.load("http://127.0.0.1:1/", requests=-1), "requests must be",
                 id="serving-load-requests-negative"),
    pytest.param(lambda: serving.load("http://127.0.0.1:1/", timeout=0), "timeout must be",
                 id="serving-load-timeout-0"),
    pytest.param(lambda: serving.load("http://example.com:80/"), "not a local server",
                 id="serving-load-remote-url"),
    pytest.param(lambda: serving.load("https://127.0.0.1:8443/"), "not a local server",
                 id="serving-load-https"),
    pytest.param(lambda: serving.load("http://127.0.0.1/"), "not a local server",
                 id="serving-load-no-port"),
    pytest.param(lambda: serving.load(8080), "url must be a string", id="serving-load-url-int"),
    pytest.param(lambda: serving.fetch("http://127.0.0.1:99999/"), "not a local server",
                 id="serving-fetch-bad-port"),
    pytest.param(lambda: serving.listening(0), "port must be", id="serving-listening-port-0"),
    pytest.param(lambda: serving.compare(clients=0), "clients must be", id="serving-compare-clients-0"),
    pytest.param(lambda: serving.compare(clients=10**9), "clients must be",
                 id="serving-compare-clients-huge"),
    pytest.param(lambda: serving.compare(requests=0), "requests must be",
                 id="serving-compare-requests-0"),
    pytest.param(lambda: serving.compare(repeats=0), "repeats must be",
                 id="serving-compare-repeats-0"),
    pytest.param(lambda: serving.compare(repeats=10**9), "repeats must be",
                 id="serving-compare-repeats-huge"),
    pytest.param(lambda: serving.compare(units=-1), "units must be", id="serving-compare-units"),
]



def test_without_an_affinity_api_the_busy_time_counts_every_cpu(monkeypatch):
    with_affinity = serving._cpu_seconds()
    monkeypatch.delattr(serving.os, "sched_getaffinity", raising=False)
    busy, own = serving._cpu_seconds()
    assert busy >= with_affinity[0] * 0.99 and own > 0  # every CPU psutil lists, not an error
