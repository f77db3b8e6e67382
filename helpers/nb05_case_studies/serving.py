"""Notebook 05, section 2: a web server on 127.0.0.1 under a bounded load.

`server(kind, handler)` runs one local HTTP server in a `lab-` thread and always stops it:
on a normal exit, an exception or KeyboardInterrupt it is shut down, its socket closed (the
port is free again), its request threads and its process pool ended. `load(url, ...)` sends
requests from N client threads and times each one. `compare()` puts the two together.
"""
from __future__ import annotations

import concurrent.futures as cf
import http.client
import os
import statistics
import sys
import threading
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import urlsplit

import psutil

from ..core import machine, runner, text, workloads
from ..core.text import Verdict

KINDS = ("single", "threads", "threads + process pool")
HANDLERS = ("io", "cpu")
HOST = "127.0.0.1"
LOCAL_HOSTS = ("127.0.0.1", "localhost")
MAX_CLIENTS = 64
MAX_REQUESTS = 200  # per client
MAX_REPEATS = 10
MAX_UNITS = 5.0  # one request's work: at most 5 units of 10 ms
DEFAULT_UNITS = 0.5  # a few milliseconds of work per request
QUEUE_SIZE = 256  # the listen backlog: the default 5 drops SYNs under 32 clients (1 s retries)
POLL_SECONDS = 0.02  # serve_forever notices shutdown() within this
WORK_TIMEOUT = 30.0  # a handler waits this long for the pool at most
SOCKET_TIMEOUT = 10.0  # each client request, and each server read, gives up after this
JOIN_TIMEOUT = 5.0


def check_kind(kind: str) -> None:
    runner.check_choice("server kind", kind, KINDS)


def check_handler(handler: str) -> None:
    runner.check_choice("handler", handler, HANDLERS)


def check_units(units: float) -> None:
    if isinstance(units, bool) or not isinstance(units, (int, float)) or not 0 < units <= MAX_UNITS:
        raise ValueError(f"units must be a number > 0 and at most {MAX_UNITS:g}, got {units!r}")


def check_url(url: str) -> tuple[str, int, str]:
    """(host, port, path) of a local http URL; ValueError for anything else."""
    allowed = f"allowed: http://{HOST}:<port>/… (a server on this machine)"
    if not isinstance(url, str):
        raise ValueError(f"url must be a string; {allowed}, got {url!r}")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS or not port:
        raise ValueError(f"url {url!r} is not a local server; {allowed}")
    return parts.hostname, port, parts.path or "/"


# --- the server -----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """GET → do one request's work (in this thread, or in the server's pool) → 200 and who did it."""

    timeout = SOCKET_TIMEOUT  # a client that never sends its request cannot hold the server

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        try:
            worker_pid = self.server.work()
            status, body = 200, f"{self.server.kind} {self.server.handler} pid={worker_pid}\n"
        except Exception as error:  # answered, not printed: stderr stays clean
            status, body = 503, f"{type(error).__name__}: {error}\n"
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args) -> None:  # noqa: A002 (http.server's signature)
        pass  # no access log on stderr


def _work_here(kind: str, argument) -> int:
    """Runs in a handler thread or a pool process: the request's work; returns who did it."""
    workloads.TASKS[kind](argument)
    return os.getpid()


class _LabServer:
    """What every lab server adds to http.server: a deep backlog, quiet errors, its work."""

    request_queue_size = QUEUE_SIZE
    allow_reuse_address = True
    daemon_threads = True

    def setup_lab(self, kind: str, handler: str, argument, pool) -> None:
        self.kind, self.handler, self.argument, self.pool = kind, handler, argument, pool
        self.errors: list[BaseException] = []
        self.request_threads: list[threading.Thread] = []
        self.request_count = 0

    def work(self) -> int:
        if self.pool is None:
            return _work_here(self.handler, self.argument)
        return self.pool.submit(_work_here, self.handler, self.argument).result(timeout=WORK_TIMEOUT)

    def handle_error(self, request, client_address) -> None:
        self.errors.append(sys.exc_info()[1])  # kept for the caller; nothing on stderr

    def process_request(self, request, client_address) -> None:
        if self.kind == "single":
            return super().process_request(request, client_address)
        # ThreadingMixIn's own threads are anonymous and, as daemons, never joined:
        # name them lab-… and keep them, so the exit can join them with a timeout.
        self.request_count += 1
        thread = threading.Thread(target=self.process_request_thread, args=(request, client_address),
                                  name=f"lab-request-{self.request_count}", daemon=True)
        self.request_threads = [t for t in self.request_threads if t.is_alive()] + [thread]
        thread.start()


class _SingleServer(_LabServer, HTTPServer):
    pass


class _ThreadingServer(_LabServer, ThreadingHTTPServer):
    pass


@dataclass(frozen=True)
class Running:
    """A server that is up: where to reach it and what it does."""

    kind: str
    handler: str
    url: str
    port: int
    pool_workers: int  # 0 without a pool
    start_method: str | None


@contextmanager
def server(kind: str, handler: str, units: float = DEFAULT_UNITS) -> Iterator[Running]:
    """Serve `handler` work ("io" or "cpu", `units` × 10 ms each) on 127.0.0.1, a free port.

    Whatever happens inside the block, the server is shut down and its port freed, its
    request threads joined and its pool shut down (each with a timeout) before it goes on.
    """
    check_kind(kind)
    check_handler(handler)
    check_units(units)
    argument = workloads.calibrate().argument(handler, units)
    with ExitStack() as stack:
        pool, workers, method = None, 0, None
        if kind == "threads + process pool":
            workers = machine.usable_cpus().value
            method = runner.check_start_method(None)
            pool = stack.enter_context(runner.open_pool("processes", workers, method))
            stack.callback(_close_pool, pool)  # runs before open_pool's own exit
        cls = _SingleServer if kind == "single" else _ThreadingServer
        httpd = cls((HOST, 0), _Handler)
        stack.callback(httpd.server_close)
        httpd.setup_lab(kind, handler, argument, pool)
        thread = threading.Thread(target=httpd.serve_forever, args=(POLL_SECONDS,),
                                  name=f"lab-server-{kind.replace(' ', '')}", daemon=True)
        thread.start()
        stack.callback(_stop, httpd, thread)
        port = httpd.server_address[1]
        yield Running(kind, handler, f"http://{HOST}:{port}/", port, workers, method)


def _stop(httpd, thread: threading.Thread) -> None:
    """Stop serve_forever, then wait (bounded) for the loop and every request thread."""
    # shutdown() waits for the loop to notice; the loop finishes its current request first,
    # and every request is bounded (a few ms of work, WORK_TIMEOUT, SOCKET_TIMEOUT).
    if thread.is_alive():
        httpd.shutdown()
    thread.join(JOIN_TIMEOUT)
    deadline = time.perf_counter() + JOIN_TIMEOUT
    for request_thread in list(getattr(httpd, "request_threads", ())):
        request_thread.join(max(0.0, deadline - time.perf_counter()))


def _close_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Drop queued work, then wait (bounded) for the workers to exit; terminate stragglers."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    if manager is not None:
        manager.join(JOIN_TIMEOUT)  # it joins the workers once they have finished
    for process in processes:
        process.join(JOIN_TIMEOUT if manager is None else 0.1)
        if process.is_alive():
            process.terminate()
            process.join(JOIN_TIMEOUT)


def listening(port: int) -> bool:
    """Whether this process still has a socket listening on `port` (False once a server stopped)."""
    runner.check_int("port", port, 1, 65535)
    me = psutil.Process()
    connections = getattr(me, "net_connections", None) or me.connections  # psutil < 6
    return any(c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
               for c in connections("tcp"))


# --- the load -------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """Latencies of every request (seconds) and the wall time of the whole load."""

    clients: int
    requests: int  # per client
    latencies: tuple[float, ...]
    wall: float

    @property
    def total(self) -> int:
        return len(self.latencies)

    @property
    def throughput(self) -> float:
        """Requests answered per second of wall time."""
        return self.total / self.wall if self.wall > 0 else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        """The latency 95 % of requests stayed under (nearest rank)."""
        ordered = sorted(self.latencies)
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def load(url: str, clients: int = 16, requests: int = 8, timeout: float = 60.0) -> Load:
    """`clients` threads each send `requests` GETs to `url`, one after another; time each.

    Every request must answer 200 (else RuntimeError); `timeout` bounds the whole load.
    On an interrupt the clients stop after their current request and are joined.
    """
    host, port, path = check_url(url)
    runner.check_int("clients", clients, 1, MAX_CLIENTS)
    runner.check_int("requests", requests, 1, MAX_REQUESTS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    stop, go = threading.Event(), threading.Barrier(clients + 1)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def client(mine: list[float]) -> None:
        try:
            go.wait(timeout=JOIN_TIMEOUT)
            for _ in range(requests):
                if stop.is_set():
                    return
                mine.append(_get(host, port, path))
        except Exception as error:
            errors.append(error)
            stop.set()

    threads = [threading.Thread(target=client, args=(mine,), name=f"lab-client-{i}", daemon=True)
               for i, mine in enumerate(latencies)]
    try:
        for thread in threads:
            thread.start()
        go.wait(timeout=JOIN_TIMEOUT)
        began = time.perf_counter()
        deadline = began + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.perf_counter()))
        wall = time.perf_counter() - began
        if any(thread.is_alive() for thread in threads):
            raise TimeoutError(f"the load did not finish within {timeout:g} s")
    finally:
        stop.set()  # clients stop after their current request, which SOCKET_TIMEOUT bounds
        last = time.perf_counter() + SOCKET_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, last - time.perf_counter()))
    if errors:
        raise RuntimeError(f"{len(errors)} client(s) failed; first: {errors[0]!r}") from errors[0]
    return Load(clients, requests, tuple(x for mine in latencies for x in mine), wall)


def _get(host: str, port: int, path: str) -> float:
    """One GET on a fresh connection; its latency in seconds; error unless 200."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection(host, port, timeout=SOCKET_TIMEOUT)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {body.decode(errors='replace').strip()}")
    return time.perf_counter() - started


def fetch(url: str) -> str:
    """One GET; the body the server answered (it says which server and which pid did the work)."""
    host, port, path = check_url(url)
    connection = http.client.HTTPConnection(host, port, timeout=SOCKET_TIMEOUT)
    try:
        connection.request("GET", path)
        return connection.getresponse().read().decode()
    finally:
        connection.close()


# --- the comparison -------------------------------------------------------------------

PLAN = (("io", "single"), ("io", "threads"),
        ("cpu", "single"), ("cpu", "threads"), ("cpu", "threads + process pool"))


@dataclass(frozen=True)
class Served:
    handler: str
    kind: str
    load: Load
    others_busy: float = 0.0  # of the CPUs we may use, how many other programs kept busy meanwhile


@dataclass(frozen=True)
class Comparison:
    """Each (handler, server kind) under the same load."""

    clients: int
    requests: int  # per client, per round
    repeats: int  # rounds; each run is its best round
    work_ms: float  # one request's work
    usable_cpus: int
    pool_workers: int
    start_method: str
    runs: tuple[Served, ...]

    def get(self, handler: str, kind: str) -> Load:
        for served in self.runs:
            if (served.handler, served.kind) == (handler, kind):
                return served.load
        raise KeyError((handler, kind))

    def kinds(self, handler: str) -> list[str]:
        return [served.kind for served in self.runs if served.handler == handler]

    def gain(self, handler: str, kind: str) -> float:
        """Throughput of `kind` over the single-threaded server's, for `handler`."""
        return self.get(handler, kind).throughput / self.get(handler, "single").throughput


def compare(clients: int = 16, requests: int = 4, units: float = DEFAULT_UNITS, repeats: int = 2,
            progress: runner.Progress | None = None) -> Comparison:
    """io work on single vs threads; cpu work on single vs threads vs threads + process pool.

    All five servers are up at once and loaded in turn, `repeats` rounds; each keeps its
    round with the highest throughput (the one least disturbed by other programs).
    """
    runner.check_int("clients", clients, 1, MAX_CLIENTS)
    runner.check_int("requests", requests, 1, MAX_REQUESTS)
    runner.check_int("repeats", repeats, 1, MAX_REPEATS)
    check_units(units)
    method = runner.check_start_method(None)
    rounds: dict[tuple[str, str], list[Served]] = {pair: [] for pair in PLAN}
    with ExitStack() as stack:
        urls = {}
        for handler, kind in PLAN:
            urls[handler, kind] = stack.enter_context(server(kind, handler, units)).url
            load(urls[handler, kind], min(clients, 2), 1)  # warm-up: first connections, the pool
        for repeat in range(repeats):
            for done, (handler, kind) in enumerate(PLAN):
                before = _cpu_seconds()
                measured = load(urls[handler, kind], clients, requests)
                others = _others_busy(before, _cpu_seconds(), measured.wall)
                rounds[handler, kind].append(Served(handler, kind, measured, others))
                if progress is not None:
                    progress(repeat * len(PLAN) + done + 1, repeats * len(PLAN))
    runs = tuple(max(rounds[pair], key=lambda served: served.load.throughput) for pair in PLAN)
    usable = machine.usable_cpus().value
    work_ms = workloads.calibrate().unit_seconds * units * 1000
    return Comparison(clients, requests, repeats, work_ms, usable, usable, method, runs)


def _cpu_seconds() -> tuple[float, float]:
    """(CPU seconds the CPUs we may use have been busy, CPU seconds of us and our children)."""
    per_cpu = psutil.cpu_times(percpu=True)
    allowed = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(len(per_cpu))
    busy = sum(sum(t) - t.idle - getattr(t, "iowait", 0.0)
               for i, t in enumerate(per_cpu) if i in allowed)
    me = psutil.Process()
    own = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        try:
            own += sum(child.cpu_times()[:2])
        except psutil.Error:
            pass
    return busy, own


def _others_busy(before: tuple[float, float], after: tuple[float, float], wall: float) -> float:
    """How many CPUs other programs kept busy on average between two _cpu_seconds() readings."""
    if wall <= 0:
        return 0.0
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall)





def io_verdict(result: Comparison) -> str:
    """One sentence on the io handler: did threads multiply throughput?"""
    gain = result.gain("io", "threads")
    said = ("multiplied" if gain >= 1.5 else "did not multiply")
    return (f"On this machine, with {result.clients} clients and a waiting (io) handler, threads "
            f"{said} throughput: {gain:.1f}× the single-threaded server.")


def io_figures(result: Comparison) -> str:
    """The io handler's throughput and latency, single against threads, for the details."""
    single, threads = result.get("io", "single"), result.get("io", "threads")
    return (f"With the io handler: {threads.throughput:.0f} against {single.throughput:.0f} "
            f"requests/s, median latency {text.ms(threads.median)} against {text.ms(single.median)}.")


def cpu_verdict(result: Comparison) -> str:
    """One sentence on the cpu handler: threads ≈ single; what the process pool gave."""
    threads, pooled = result.gain("cpu", "threads"), result.gain("cpu", "threads + process pool")
    if 0.8 <= threads <= 1.25:
        first = f"threads gave about the same throughput as one thread ({threads:.2f}×)"
    else:
        first = f"threads gave {threads:.2f}× the single server's throughput"
    usable = result.usable_cpus
    pool = f"a pool of {result.pool_workers} {result.start_method} processes behind the threads"
    if usable == 1:
        second = (f"with 1 usable CPU a process pool cannot help ({pooled:.2f}×): there is no "
                  f"second core for its worker to compute on")
    elif pooled >= 1.3:
        second = f"{pool} gave {pooled:.1f}× (the ceiling is {usable}×, the usable CPUs)"
    else:
        second = f"{pool} gave only {pooled:.2f}× of a possible {usable}×"
    others = max(s.others_busy for s in result.runs if s.handler == "cpu")
    third = ""
    if others >= 0.5:
        third = (f" Careful: other programs kept {others:.1f} of the CPUs this kernel may use "
                 f"busy during these runs, "
                 f"taking cores and time slices from the server; run it again when the machine "
                 f"is quieter.")
    return f"On this machine, for a computing (cpu) handler, {first}; {second}.{third}"


def verdict(result: Comparison) -> Verdict:
    return Verdict(io_verdict(result), f"{io_figures(result)} {cpu_verdict(result)}")
