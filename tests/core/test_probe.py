"""The quieter Dask shutdown: what the log filters drop, and what they let through."""
import asyncio
import logging

from helpers.core import probe


def record(message: str, error: BaseException | None) -> logging.LogRecord:
    exc_info = (type(error), error, None) if error else None
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, exc_info)


def test_only_an_unretrieved_timeout_is_dropped():
    keep = probe.UnretrievedTimeoutFilter().filter
    assert not keep(record("Future exception was never retrieved\nfuture: <Future …>", asyncio.TimeoutError("Timeout")))
    assert keep(record("Future exception was never retrieved\nfuture: <Future …>", ValueError("bad")))
    assert keep(record("Task was destroyed but it is pending!", None))


def test_the_filter_goes_on_the_asyncio_logger_once():
    logger = logging.getLogger("asyncio")
    probe.hide_unretrieved_timeouts()
    probe.hide_unretrieved_timeouts()
    assert sum(isinstance(f, probe.UnretrievedTimeoutFilter) for f in logger.filters) == 1
