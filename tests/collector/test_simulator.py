"""The simulated band: determinism, realism against the recovery curve, wire validity, DST days."""

from __future__ import annotations

from datetime import date

import numpy as np
import orjson
import pytest

from collector.simulator import (
    DEFAULT_PROFILE,
    SimulatedDay,
    hr_max_bpm_for_age,
    local_days,
    sample_profile,
    simulate_day,
    simulate_history,
    steps_fraction_of_baseline,
    walk_minutes_per_day,
)
from collector.wire import parse_time

DAY0_S = 1_778_371_200  # 2026-05-10T00:00:00Z
BASELINE = 8_000


def _day(seed: int, stage_week: float, *, i: int = 0, hr_interval_s: int = 1) -> SimulatedDay:
    return simulate_day(
        day_start_s=DAY0_S + i * 86_400,
        n_minutes=1_440,
        stage_week=stage_week,
        baseline_steps_per_day=BASELINE,
        rng=np.random.default_rng(seed),
        hr_interval_s=hr_interval_s,
    )


ARRAYS = (
    "hr_t_s",
    "hr_bpm",
    "steps_t_s",
    "steps",
    "cadence_t_s",
    "cadence_spm",
    "bike_t_s",
    "bike_rpm",
    "bike_power_w",
    "sleep_by_minute",
    "wear_by_minute",
    "walk_by_minute",
    "ride_by_minute",
)


def test_same_seed_gives_identical_arrays() -> None:
    for seed in range(5):
        a, b = _day(seed, 2.5), _day(seed, 2.5)
        for name in ARRAYS:
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert not np.array_equal(_day(1, 2.5).hr_bpm, _day(2, 2.5).hr_bpm)


def test_arrays_are_read_only() -> None:
    day = _day(0, 2.0)
    with pytest.raises(ValueError, match="read-only"):
        day.hr_bpm[0] = 99


def test_recovery_curve_follows_master_2021() -> None:
    assert steps_fraction_of_baseline(0.5) == 1.0  # before surgery
    assert steps_fraction_of_baseline(1.0) == pytest.approx(0.30)  # ≈ 70 % below in week 1
    assert steps_fraction_of_baseline(1.9) == pytest.approx(0.30)
    weeks = np.linspace(2.0, 30.0, 50)
    fractions = [steps_fraction_of_baseline(w) for w in weeks]
    assert np.all(np.diff(fractions) > 0)
    assert 0.6 < steps_fraction_of_baseline(7.0) < 0.8
    assert fractions[-1] > 0.95


@pytest.mark.parametrize(
    ("stage_week", "low", "high"),
    [(1.5, 1_200, 4_500), (3.5, 2_000, 6_500), (8.0, 3_500, 10_000)],
)
def test_daily_steps_stay_in_the_stage_range(stage_week: float, low: int, high: int) -> None:
    totals = np.array([_day(seed, stage_week).total_steps for seed in range(12)])
    assert np.all((totals >= low) & (totals <= high)), totals
    expected = BASELINE * steps_fraction_of_baseline(stage_week)
    assert 0.75 * expected < np.median(totals) < 1.25 * expected


def test_walking_follows_the_regimen() -> None:
    early = [_day(seed, 1.5).walk_minutes for seed in range(12)]
    late = [_day(seed, 8.0).walk_minutes for seed in range(12)]
    assert 8 <= np.median(early) <= 18  # 10–15 min/day to begin with
    assert 18 <= np.median(late) <= 32  # 20–30 min/day once recovered
    assert walk_minutes_per_day(1.0) < walk_minutes_per_day(4.0) < walk_minutes_per_day(7.0)


def test_heart_rate_is_plausible_and_follows_activity() -> None:
    nights = 0
    for seed in range(8):
        day = _day(seed, 4.0)
        assert day.hr_bpm.min() >= 40
        assert day.hr_bpm.max() <= 200
        minute = ((day.hr_t_s - day.day_start_s) // 60).astype(int)
        asleep = day.sleep_by_minute[minute]
        walking = day.walk_by_minute[minute]
        assert np.median(day.hr_bpm[walking]) > np.median(day.hr_bpm[~asleep & ~walking]) + 10
        if asleep.any():  # the band is off at night on some days
            assert np.median(day.hr_bpm[asleep]) < DEFAULT_PROFILE.resting_hr_bpm + 2
            nights += 1
    assert nights >= 3


def test_non_wear_gaps_have_no_samples() -> None:
    days = [_day(seed, 3.0, i=seed) for seed in range(14)]
    long_gaps = 0
    for day in days:
        minute_hr = np.unique(((day.hr_t_s - day.day_start_s) // 60).astype(int))
        minute_steps = ((day.steps_t_s - day.day_start_s) // 60 - 1).astype(int)
        worn = np.flatnonzero(day.wear_by_minute)
        np.testing.assert_array_equal(minute_hr, worn)
        np.testing.assert_array_equal(minute_steps, worn)
        off = np.concatenate([[0], (~day.wear_by_minute).astype(int), [0]])
        edges = np.flatnonzero(np.diff(off))
        runs = edges[1::2] - edges[::2]
        long_gaps += int(np.any(runs >= 60))
    assert long_gaps >= 7  # most days have a ≥ 60-minute non-wear gap (charging, nights)


def test_rides_produce_bike_samples_and_few_steps() -> None:
    rides = [d for d in (_day(seed, 2.0) for seed in range(20)) if d.ride_by_minute.any()]
    assert rides
    for day in rides:
        assert day.bike_t_s.size == int(day.ride_by_minute.sum()) * 60
        assert np.all((day.bike_rpm >= 0) & (day.bike_rpm <= 250))
        assert np.all((day.bike_power_w >= 0) & (day.bike_power_w <= 3000))
        ride_minutes = day.ride_by_minute[day.wear_by_minute]
        assert day.steps[ride_minutes].max() <= 3


def test_samples_meet_the_wire_rules() -> None:
    for seed in range(6):
        day = _day(seed, 2.0, hr_interval_s=5)
        assert np.all(day.steps >= 0)
        assert np.all(day.steps <= 4 * 60)  # at most 4 steps/s over the interval
        assert np.all(np.diff(day.hr_t_s) >= 5)
        assert day.hr_t_s.min() >= DAY0_S
        assert day.hr_t_s.max() < DAY0_S + 86_400
        t_s, bodies = day.encoded()
        assert len(bodies) == len(t_s) == day.n_samples
        kinds = {orjson.loads(b)["kind"] for b in bodies}
        assert {"heart_rate", "steps"} <= kinds
        first = orjson.loads(bodies[0])
        assert parse_time(first["t"]) == pytest.approx(t_s[0], abs=5e-4)


def test_profiles_use_tanaka_and_the_fitabase_baseline() -> None:
    assert hr_max_bpm_for_age(60) == pytest.approx(166.0)
    rng = np.random.default_rng(11)
    profiles = [sample_profile(rng) for _ in range(400)]
    baselines = np.array([p.baseline_steps_per_day for p in profiles])
    assert 6_500 < np.median(baselines) < 9_500  # Fitabase per-person median 7,833
    assert all(p.hr_max_bpm == pytest.approx(208 - 0.7 * p.age_years, abs=0.1) for p in profiles)
    assert all(40 <= p.resting_hr_bpm < p.hr_max_bpm for p in profiles)
    fixed = sample_profile(rng, age_years=70, baseline_steps_per_day=5_000)
    assert (fixed.age_years, fixed.baseline_steps_per_day) == (70, 5_000)


def test_local_days_follow_dst() -> None:
    spans = local_days(days=3, tz="Europe/Berlin", today=date(2026, 3, 30))
    assert [n for _, n in spans] == [1_440, 1_440, 1_380]  # 2026-03-29 is 23 hours long
    assert spans[-1][0] == int(parse_time("2026-03-29T00:00:00+01:00"))
    autumn = local_days(days=1, tz="Europe/Berlin", today=date(2026, 10, 26))
    assert autumn[0][1] == 1_500
    with pytest.raises(ValueError, match="IANA"):
        local_days(days=1, tz="Mars/Olympus", today=date(2026, 1, 1))


def test_history_ends_yesterday_and_ramps_the_stage() -> None:
    history = simulate_history(
        days=14, stage_week=3.0, seed=5, tz="America/New_York", today=date(2026, 11, 3)
    )
    days = history.days
    assert len(days) == 14
    assert [d.n_minutes for d in days].count(1_500) == 1  # 2026-11-01, DST ends
    assert days[-1].stage_week == 3.0
    assert days[0].stage_week == pytest.approx(3.0 - 13 / 7)
    assert days[-1].day_start_s == int(parse_time("2026-11-02T00:00:00-05:00"))
    assert np.mean([d.total_steps for d in days[:7]]) < np.mean([d.total_steps for d in days[7:]])
    shorter = simulate_history(
        days=3, stage_week=3.0, seed=5, tz="America/New_York", today=date(2026, 11, 3)
    )
    assert shorter.profile == history.profile
    np.testing.assert_array_equal(shorter.days[-1].hr_bpm, days[-1].hr_bpm)


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n_minutes"):
        simulate_day(
            day_start_s=DAY0_S,
            n_minutes=2_000,
            stage_week=1.0,
            baseline_steps_per_day=BASELINE,
            rng=np.random.default_rng(0),
        )
    with pytest.raises(ValueError, match="hr_interval_s"):
        _day(0, 1.0, hr_interval_s=0)
