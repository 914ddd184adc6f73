"""Counter state machines: resets, duplicates, rollovers, new sessions, persistence."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.counters import CounterEvent, CrankCadence, RolloverCounter, StepCounter

ZONE = ZoneInfo("Europe/Berlin")
T0 = datetime(2024, 3, 5, 10, 0, tzinfo=ZONE)


def _feed_steps(
    counter: StepCounter, readings: list[tuple[int, datetime]]
) -> tuple[StepCounter, list[int], list[CounterEvent]]:
    deltas, events = [], []
    for steps, at in readings:
        result = counter.update(steps_today=steps, at=at)
        counter = result.counter
        deltas.append(result.delta_count)
        events.append(result.event)
    return counter, deltas, events


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


# --- StepCounter -----------------------------------------------------------------------------


def test_first_reading_is_a_baseline_and_increases_are_counted() -> None:
    _, deltas, events = _feed_steps(
        StepCounter(), [(1200, T0), (1250, T0 + minutes(1)), (1400, T0 + minutes(2))]
    )
    assert deltas == [0, 50, 150]
    assert events == [CounterEvent.FIRST, CounterEvent.INCREASE, CounterEvent.INCREASE]


def test_duplicate_notifications_count_nothing() -> None:
    _, deltas, events = _feed_steps(
        StepCounter(),
        [(100, T0), (150, T0 + minutes(1)), (150, T0 + minutes(1)), (150, T0 + minutes(2))],
    )
    assert deltas == [0, 50, 0, 0]
    assert events[2:] == [CounterEvent.DUPLICATE, CounterEvent.DUPLICATE]


def test_midnight_reset_while_connected_counts_the_new_day_steps() -> None:
    late = datetime(2024, 3, 5, 23, 58, tzinfo=ZONE)
    _, deltas, events = _feed_steps(
        StepCounter(),
        [(9000, late), (9010, late + minutes(1)), (0, late + minutes(3)), (12, late + minutes(4))],
    )
    assert deltas == [0, 10, 0, 12]
    assert events[2:] == [CounterEvent.RESET, CounterEvent.INCREASE]


def test_reset_seen_after_a_disconnect_across_midnight() -> None:
    evening = datetime(2024, 3, 5, 21, 0, tzinfo=ZONE)
    morning = datetime(2024, 3, 6, 9, 0, tzinfo=ZONE)
    # fewer steps this morning than last night: the drop reveals the reset
    _, deltas, events = _feed_steps(StepCounter(), [(8000, evening), (2500, morning)])
    assert deltas == [0, 2500]
    assert events[1] is CounterEvent.RESET


def test_new_day_with_more_steps_than_yesterday_counts_all_of_them() -> None:
    evening = datetime(2024, 3, 5, 21, 0, tzinfo=ZONE)
    next_evening = datetime(2024, 3, 6, 20, 0, tzinfo=ZONE)
    _, deltas, events = _feed_steps(StepCounter(), [(3000, evening), (7000, next_evening)])
    assert deltas == [0, 7000]
    assert events[1] is CounterEvent.RESET


def test_band_clock_behind_at_midnight_does_not_double_count() -> None:
    # The collector's day has turned but the band has not reset yet (its clock is behind):
    # yesterday's last steps are counted once, then the real reset counts only new steps.
    before = datetime(2024, 3, 5, 23, 59, tzinfo=ZONE)
    after = datetime(2024, 3, 6, 0, 2, tzinfo=ZONE)
    _, deltas, _ = _feed_steps(
        StepCounter(), [(9000, before), (9040, after), (5, after + minutes(3))]
    )
    assert deltas == [0, 40, 5]


def test_reboot_to_zero_mid_day_counts_steps_since_reboot() -> None:
    _, deltas, events = _feed_steps(
        StepCounter(), [(4000, T0), (4100, T0 + minutes(5)), (30, T0 + minutes(6))]
    )
    assert deltas == [0, 100, 30]
    assert events[2] is CounterEvent.RESET


def test_reboot_that_restores_an_older_total_counts_nothing() -> None:
    # 4100 -> 3900 one minute later: 3900 steps cannot have been walked since a restart.
    _, deltas, events = _feed_steps(
        StepCounter(),
        [(4000, T0), (4100, T0 + minutes(5)), (3900, T0 + minutes(6)), (3950, T0 + minutes(7))],
    )
    assert deltas == [0, 100, 0, 50]
    assert events[2] is CounterEvent.REGRESSION


def test_stale_reading_is_ignored() -> None:
    counter, deltas, events = _feed_steps(
        StepCounter(), [(100, T0), (200, T0 + minutes(2)), (150, T0 + minutes(1))]
    )
    assert deltas == [0, 100, 0]
    assert events[2] is CounterEvent.STALE
    assert counter.last_steps == 200


def test_state_survives_a_collector_restart_and_reconnect() -> None:
    counter, deltas, _ = _feed_steps(StepCounter(), [(500, T0), (800, T0 + minutes(10))])
    restored = StepCounter.from_dict(json.loads(json.dumps(counter.to_dict())))
    assert restored == StepCounter(last_steps=800, last_time=restored.last_time)
    assert restored.last_time == T0 + minutes(10)
    # after reconnecting, the band repeats its current value, then moves on
    _, more, events = _feed_steps(restored, [(800, T0 + minutes(30)), (860, T0 + minutes(31))])
    assert more == [0, 60]
    assert events == [CounterEvent.DUPLICATE, CounterEvent.INCREASE]
    assert sum(deltas) + sum(more) == 860 - 500


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "rollover_counter", "version": 1},
        {"kind": "step_counter", "version": 99},
        {
            "kind": "step_counter",
            "version": 1,
            "last_steps": 1,
            "last_time": "2024-03-05T10:00:00",  # naive
            "max_cadence_spm": 250.0,
            "min_budget": 8,
            "midnight_grace_s": 900.0,
        },
    ],
)
def test_step_counter_from_dict_rejects(data: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"state|aware"):
        StepCounter.from_dict(data)


def test_step_counter_input_validation() -> None:
    with pytest.raises(ValueError, match="aware"):
        StepCounter().update(steps_today=1, at=datetime(2024, 3, 5, 10, 0))
    with pytest.raises(ValueError, match=">= 0"):
        StepCounter().update(steps_today=-1, at=T0)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    readings=st.lists(
        st.tuples(st.integers(0, 30_000), st.integers(0, 6 * 3600)), min_size=1, max_size=30
    )
)
def test_step_deltas_are_never_negative_and_duplicates_add_nothing(
    readings: list[tuple[int, int]],
) -> None:
    counter = StepCounter()
    at = T0
    for steps, gap_s in readings:
        at += timedelta(seconds=gap_s)
        first = counter.update(steps_today=steps, at=at)
        again = first.counter.update(steps_today=steps, at=at)
        assert first.delta_count >= 0
        assert again.delta_count == 0
        counter = again.counter


# --- RolloverCounter -------------------------------------------------------------------------


def _feed_values(
    counter: RolloverCounter, readings: list[tuple[int, float]]
) -> tuple[list[int], list[CounterEvent]]:
    deltas, events = [], []
    for value, offset_s in readings:
        result = counter.update(value=value, at=T0 + timedelta(seconds=offset_s))
        counter = result.counter
        deltas.append(result.delta_count)
        events.append(result.event)
    return deltas, events


def test_crank_revs_roll_over_at_uint16() -> None:
    deltas, events = _feed_values(
        RolloverCounter.for_crank_revs(), [(65530, 0), (65534, 1), (2, 2), (6, 3)]
    )
    assert deltas == [0, 4, 4, 4]
    assert events == [
        CounterEvent.FIRST,
        CounterEvent.INCREASE,
        CounterEvent.ROLLOVER,
        CounterEvent.INCREASE,
    ]


def test_wheel_revs_roll_over_at_uint32() -> None:
    deltas, events = _feed_values(
        RolloverCounter.for_wheel_revs(), [(0xFFFFFFF8, 0), (0x00000005, 1)]
    )
    assert deltas == [0, 13]
    assert events[1] is CounterEvent.ROLLOVER


def test_new_treadmill_session_counts_from_zero() -> None:
    # session one ends at 3000 steps; two hours later the machine reports a new session
    deltas, events = _feed_values(
        RolloverCounter.for_treadmill_steps(), [(2900, 0), (3000, 30), (450, 7230), (490, 7240)]
    )
    assert deltas == [0, 100, 450, 40]
    assert events[2] is CounterEvent.RESET


def test_new_crank_session_soon_after_is_not_a_rollover() -> None:
    deltas, events = _feed_values(RolloverCounter.for_crank_revs(), [(60000, 0), (3, 5)])
    assert deltas == [0, 3]
    assert events[1] is CounterEvent.RESET


def test_ambiguous_wrap_or_restart_after_a_long_gap_counts_the_smaller_delta() -> None:
    # after three hours both a wrap (5556) and a new session (20) fit: 20 is counted
    deltas, events = _feed_values(RolloverCounter.for_crank_revs(), [(60000, 0), (20, 3 * 3600)])
    assert deltas == [0, 20]
    assert events[1] is CounterEvent.RESET


def test_small_backwards_step_is_a_regression_not_a_session() -> None:
    deltas, events = _feed_values(
        RolloverCounter.for_treadmill_steps(), [(1000, 0), (990, 1), (995, 2)]
    )
    assert deltas == [0, 0, 5]
    assert events[1] is CounterEvent.REGRESSION


def test_implausible_forward_jump_counts_nothing() -> None:
    deltas, events = _feed_values(
        RolloverCounter.for_treadmill_steps(), [(10, 0), (50_000, 1), (50_004, 2)]
    )
    assert deltas == [0, 0, 4]
    assert events[1] is CounterEvent.JUMP


def test_duplicates_and_stale_readings_count_nothing() -> None:
    deltas, events = _feed_values(
        RolloverCounter.for_crank_revs(), [(100, 10), (100, 10), (104, 11), (90, 5)]
    )
    assert deltas == [0, 0, 4, 0]
    assert events[1] is CounterEvent.DUPLICATE
    assert events[3] is CounterEvent.STALE


def test_rollover_counter_round_trips_through_json() -> None:
    counter = RolloverCounter.for_treadmill_steps().update(value=77, at=T0).counter
    restored = RolloverCounter.from_dict(json.loads(json.dumps(counter.to_dict())))
    assert restored == counter
    assert restored.update(value=77, at=T0 + minutes(1)).delta_count == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"bits": 8, "max_rate_per_s": 1.0}, "bits"), ({"bits": 16, "max_rate_per_s": 0.0}, "rate")],
)
def test_rollover_counter_configuration(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RolloverCounter(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [-1, 1 << 16])
def test_rollover_counter_rejects_values_outside_the_width(value: int) -> None:
    with pytest.raises(ValueError, match="uint16"):
        RolloverCounter.for_crank_revs().update(value=value, at=T0)


def test_rollover_counter_rejects_other_state_kinds() -> None:
    with pytest.raises(ValueError, match="state"):
        RolloverCounter.from_dict(StepCounter().to_dict())


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    bits=st.sampled_from([16, 24, 32]),
    steps=st.lists(st.tuples(st.integers(0, 10), st.integers(1, 5)), min_size=1, max_size=40),
    start=st.integers(0, (1 << 32) - 1),
)
def test_steady_counting_through_rollovers_is_exact(
    bits: int, steps: list[tuple[int, int]], start: int
) -> None:
    # A counter advancing at a plausible rate is counted exactly, wrapping or not.
    modulus = 1 << bits
    counter = RolloverCounter(bits=bits, max_rate_per_s=10.0)
    value, at = start % modulus, T0
    counter = counter.update(value=value, at=at).counter
    total = 0
    for increment, gap_s in steps:
        value, at = (value + increment) % modulus, at + timedelta(seconds=gap_s)
        result = counter.update(value=value, at=at)
        counter = result.counter
        total += result.delta_count
    assert total == sum(increment for increment, _ in steps)


# --- CrankCadence ----------------------------------------------------------------------------


def test_crank_cadence_sequence() -> None:
    cadence = CrankCadence()
    outputs = []
    for revs, event_s in [(10, 1.0), (11, 2.0), (11, 2.0), (13, 3.0), (14, 63.5), (15, 0.5)]:
        cadence, rpm = cadence.update(crank_revs=revs, crank_event_s=event_s)
        outputs.append(rpm)
    assert outputs[0] is None
    assert outputs[1] == pytest.approx(60.0)
    assert outputs[2] is None  # repeated event: dt = 0 skipped
    assert outputs[3] == pytest.approx(120.0)  # measured against the last distinct event
    assert outputs[4] == pytest.approx(60 / 60.5)  # 1 rev in 60.5 s
    assert outputs[5] == pytest.approx(60.0)  # event time rolled over 64 s


def test_crank_cadence_rejects_implausible_and_inconsistent_data() -> None:
    cadence, _ = CrankCadence().update(crank_revs=10, crank_event_s=1.0)
    cadence, rpm = cadence.update(crank_revs=500, crank_event_s=2.0)  # 490 rev in 1 s
    assert rpm is None
    assert cadence.last_revs == 500
    cadence, rpm = cadence.update(crank_revs=502, crank_event_s=2.0)  # count moved, time did not
    assert rpm is None
    assert cadence.last_revs == 502
    _, rpm = cadence.update(crank_revs=503, crank_event_s=3.0)
    assert rpm == pytest.approx(60.0)


def test_wrap_is_preferred_over_restart_for_close_readings() -> None:
    # 65534 -> 2 one second later: a wrap of 4 and a restart of 2 both fit; readings this close
    # together are a continuous session, so the wrap is counted
    deltas, events = _feed_values(RolloverCounter.for_crank_revs(), [(65534, 0), (2, 1)])
    assert deltas == [0, 4]
    assert events[1] is CounterEvent.ROLLOVER
