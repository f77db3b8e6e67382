"""Notebook 04's experiments: shapes, correctness of the fixes, bounded demos, bad input."""

import pytest
from helpers.nb04_races import figures, races
from helpers.nb01_gil.gil import switch_interval


@pytest.fixture(autouse=True)
def nothing_left_behind(no_leftovers):
    yield


def test_plain_counter_counts_every_trial():
    tally = races.plain_counter(threads=2, increments=10_000, trials=2)
    assert tally.expected == 20_000 and len(tally.actual) == 2
    assert all(0 <= lost <= tally.expected for lost in tally.lost)
    assert ("no update lost" if max(tally.lost) == 0 else "updates lost in one trial") in races.plain_verdict(tally)


def test_the_plain_verdict_never_says_at_most_zero():
    none = races.Tally("counter += 1", 2, 2_000, (2_000, 2_000))
    assert races.plain_verdict(none).headline == "2 threads × 1,000 increments, 2 trials: no update lost."
    some = races.Tally("counter += 1", 2, 2_000, (1_500, 2_000))
    assert races.plain_verdict(some).headline.endswith("up to 500 updates lost in one trial.")


def test_the_racy_deposit_loses_updates_and_the_locked_one_does_not():
    racy = races.bank_sweep(thread_counts=(4,), total=600_000, trials=3)[0]
    assert any(lost > 0 for lost in racy.lost)  # some updates lost; never an exact count
    with switch_interval(races.DEMO_INTERVAL):
        locked = races.bank(4, 50_000, 2, races.locked_deposit)
    assert locked.lost == (0, 0)
    assert len(figures.lost_updates([racy, locked]).axes) == 2


def test_trace_finds_a_stale_write_or_says_none():
    result = races.trace(deposits=20_000)
    text = races.trace_verdict(result)
    if result.loser is not None:
        assert result.overwritten > result.read and "wiping out" in text
    assert races.format_trace(result)


def test_every_fix_is_exact():
    results = races.fixes(threads=4, deposits=50_000)
    assert [r.label for r in results][0] == "no fix (racy)"
    assert all(r.correct for r in results[1:])
    assert "Exact:" in races.fixes_verdict(results, 200_000)
    assert figures.fixes(results).axes


def test_processes_with_the_lock_or_sharing_nothing_are_exact():
    unlocked, locked, nothing = races.process_counters(processes=2, increments=20_000)
    assert locked.correct and nothing.correct
    assert 0 <= unlocked.total <= 40_000
    assert "get_lock()" in races.process_verdict([unlocked, locked, nothing], 40_000)


def test_deadlock_is_detected_with_a_timeout_and_one_lock_order_avoids_it():
    result = races.deadlock(timeout=0.1)
    assert any("deadlock" in line for line in result.opposite_order)
    assert all("got both locks" in line for line in result.same_order)


def test_check_then_act_and_the_primitives():
    assert races.check_then_act(threads=4) > 1
    assert races.check_then_act(threads=4, locked=True) == 1
    assert races.rlock_demo() == {"RLock": True, "Lock": False}
    assert races.semaphore_demo(tasks=8, limit=3) <= 3
    assert races.event_demo() >= 0
    assert races.condition_demo(items=3) == [0, 1, 2]
    assert races.barrier_demo() >= 0


@pytest.mark.parametrize("call, message", [
    (lambda: races.bank(threads=0), "threads must be an integer from 1 to 64"),
    (lambda: races.bank(threads=1000), "from 1 to 64"),
    (lambda: races.bank(deposits=0), "increments must be an integer from 1 to"),
    (lambda: races.bank(trials=0), "trials must be from 1 to 200"),
    (lambda: races.plain_counter(increments=10**9), "increments must be an integer from 1 to 2,000,000"),
    (lambda: races.deadlock(timeout=60), "timeout must be from 0.01 to 5"),
    (lambda: races.process_counters(processes=10_000), "from 1 to"),
    (lambda: races.trial(interval_ms=0), "switch interval must be between"),
])
def test_bad_input_is_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_panel_trial_and_exercise_checker():
    result = races.trial(threads=2, deposits=20_000, fixed=True)
    assert result.tally.lost == (0,) * 5
    assert "Locked deposits" in races.trial_verdict(result)
    assert figures.race_trial(result).axes
    assert races.check_fix(races.racy_deposit).startswith("Not yet: write your own")
    assert races.check_fix(lambda account: races.racy_deposit(account)).startswith("Not yet")
    assert races.check_fix(races.locked_deposit).startswith("Right")
    assert races.check_fix(lambda account: 1 / 0).startswith("Not quite")


def test_the_plain_verdict_explains_lost_updates_without_a_gil(monkeypatch):
    tally = races.Tally("plain +=", 2, 2000, (1990, 2000))
    assert "a switch fell between" in races.plain_verdict(tally) or not races.machine.gil_enabled().value
    monkeypatch.setattr(races.machine, "gil_enabled", lambda: races.machine.Fact(False, "test"))
    assert "without a GIL two threads can run them at the same instant" in races.plain_verdict(tally)
