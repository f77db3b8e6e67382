import pytest

from helpers.core import text


@pytest.mark.parametrize("nbytes, written", [
    (1, "1 B"), (1000, "1 kB"), (4096, "4 KiB"), (1.5 * 2**20, "1.5 MiB"), (64 * 2**20, "64 MiB"),
    (100_000_000, "100 MB"), (1234, "1.23 kB"), (3 * 2**30, "3 GiB"),
])
def test_a_size_is_named_in_the_units_it_was_chosen_in(nbytes, written):
    assert text.size(nbytes) == written


@pytest.mark.parametrize("seconds, written", [
    (0.0042, "4.2 ms"), (0.00042, "0.42 ms"), (0.0123, "12 ms"), (1.5, "1,500 ms"),
])
def test_milliseconds_are_whole_from_ten_up_and_two_digits_below(seconds, written):
    assert text.ms(seconds) == written


def test_microseconds_for_costs_too_small_for_milliseconds():
    assert text.us(0.000042) == "42 µs"


@pytest.mark.parametrize("ratio, written", [
    (3.2, "3.2× slower"), (12.4, "12× slower"), (0.5, "2.0× faster"), (0.05, "20× faster"),
    (1.0, "about as fast"), (1.08, "about as fast"), (0.93, "about as fast"),
])
def test_a_ratio_in_words_never_contradicts_itself(ratio, written):
    assert text.times(ratio, "slower", "faster", "about as fast") == written


def test_a_verdict_prints_whole_and_shows_its_details_on_demand():
    verdict = text.Verdict("Processes ran 1.9× faster.", "Threads took turns <on the GIL>.")
    assert str(verdict) == "Processes ran 1.9× faster.\nThreads took turns <on the GIL>."
    assert repr(verdict) == str(verdict) and isinstance(verdict, str)
    shown = verdict._repr_html_()
    assert shown.startswith("<p><b>Processes ran 1.9× faster.</b></p><details>")
    assert "&lt;on the GIL&gt;" in shown
    assert text.Verdict("Only this.")._repr_html_() == "<p><b>Only this.</b></p>"


@pytest.mark.parametrize("rate, written", [(9.1e9, "9.1 GB/s"), (1.234e9, "1.2 GB/s"), (8.5e8, "850 MB/s"),
                                           (1_234_567, "1 MB/s")])
def test_a_rate_is_written_in_decimal_units(rate, written):
    assert text.rate(rate) == written
