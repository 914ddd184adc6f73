"""Property tests (hypothesis, derandomised so that runs are reproducible)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import (
    DaySummary,
    InputError,
    MinuteGrid,
    PlanOverride,
    analyse_day,
    build_minute_grid,
)
from tests.analysis.analysis_helpers import DAY0_S, patient

DAY0 = date(2026, 5, 10)
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True)


@st.composite
def day_samples(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Random but plausible samples of one day: bouts of walking with heart rate, some gaps."""
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_bouts = draw(st.integers(0, 6))
    minutes = np.zeros(1440, dtype=bool)
    cadence = np.zeros(1440)
    for _ in range(n_bouts):
        start = int(rng.integers(0, 1430))
        length = int(rng.integers(1, 60))
        minutes[start : start + length] = True
        cadence[start : start + length] = rng.uniform(40, 170)
    worn_from, worn_to = sorted(int(x) for x in rng.integers(0, 1441, 2))
    hr_minutes = np.arange(worn_from, worn_to)
    hr = rng.normal(70, 8, hr_minutes.size) + 60 * minutes[hr_minutes]
    step_minutes = np.flatnonzero(minutes)
    return {
        "hr_t_s": DAY0_S + 60.0 * hr_minutes + rng.uniform(0, 60, hr_minutes.size),
        "hr_bpm": np.round(hr),
        "steps_end_t_s": DAY0_S + 60.0 * (step_minutes + 1),
        "steps_count": np.round(cadence[step_minutes]),
        "steps_interval_s": np.full(step_minutes.size, 60.0),
        "cadence_t_s": np.zeros(0),
        "cadence_spm": np.zeros(0),
        "cadence_running": np.zeros(0),
        "bike_t_s": np.zeros(0),
        "bike_rpm": np.zeros(0),
        "bike_power_w": np.zeros(0),
    }


def grid_of(samples: dict[str, np.ndarray], shift_days: int = 0) -> MinuteGrid:
    shift_s = 86_400 * shift_days
    shifted = {k: (v + shift_s if k.endswith("_t_s") else v) for k, v in samples.items()}
    return build_minute_grid(day_start_s=DAY0_S + shift_s, n_minutes=1440, **shifted)


@PROPERTY
@given(day_samples())
def test_active_minutes_never_exceed_wear_minutes(samples: dict[str, np.ndarray]) -> None:
    summary = analyse_day(grid=grid_of(samples), day=DAY0, patient=patient())
    assert summary.aerobic_minutes <= summary.active_minutes <= summary.wear_minutes <= 1440
    assert sum(summary.aerobic_minutes_by_kind.values()) == summary.aerobic_minutes


@PROPERTY
@given(day_samples(), st.floats(90, 180), st.floats(0, 60))
def test_raising_a_limit_never_adds_a_flag(
    samples: dict[str, np.ndarray], limit_bpm: float, raise_bpm: float
) -> None:
    grid = grid_of(samples)
    low = analyse_day(grid=grid, day=DAY0, patient=patient(hr_limit_bpm=limit_bpm))
    high = analyse_day(
        grid=grid, day=DAY0, patient=patient(hr_limit_bpm=min(limit_bpm + raise_bpm, 250))
    )
    assert {f.code for f in high.flags} <= {f.code for f in low.flags}
    relaxed_plan = patient(
        hr_limit_bpm=limit_bpm,
        plan_overrides=(
            PlanOverride(
                effective_from=DAY0, aerobic_min_high=40 + raise_bpm, max_session_min=30 + raise_bpm
            ),
        ),
    )
    relaxed = analyse_day(grid=grid, day=DAY0, patient=relaxed_plan)
    assert {f.code for f in relaxed.flags} <= {f.code for f in low.flags}


def _relative(summary: DaySummary) -> tuple[object, ...]:
    """What must not change when a day moves in time."""
    return (
        summary.wear_minutes,
        summary.steps,
        summary.active_minutes,
        summary.aerobic_minutes,
        summary.status,
        summary.heart_rate,
        tuple(
            (s.kind, s.start_s - summary.day_start_s, s.duration_min, s.steps)
            for s in summary.sessions
        ),
        tuple((f.code, f.severity, f.message) for f in summary.flags),
        summary.targets.week,
        summary.targets.aerobic_min_low,
        summary.targets.max_session_min,
    )


@PROPERTY
@given(day_samples(), st.integers(-100, 100))
def test_shifting_samples_by_whole_days_shifts_the_summary(
    samples: dict[str, np.ndarray], shift_days: int
) -> None:
    base = analyse_day(grid=grid_of(samples), day=DAY0, patient=patient())
    moved_day = DAY0 + timedelta(days=shift_days)
    moved_patient = patient(
        surgery_date=date(2026, 5, 1) + timedelta(days=shift_days),
        birth_year=1960 + moved_day.year - DAY0.year,
    )
    moved = analyse_day(grid=grid_of(samples, shift_days), day=moved_day, patient=moved_patient)
    assert moved.date == moved_day
    assert moved.day_start_s == base.day_start_s + 86_400 * shift_days
    assert _relative(moved) == _relative(base)


finite_or_not = st.floats(allow_nan=True, allow_infinity=True, width=64)


@PROPERTY
@given(
    st.integers(-5, 1600),
    st.lists(st.tuples(finite_or_not, finite_or_not), max_size=30),
    st.lists(st.tuples(finite_or_not, finite_or_not, finite_or_not), max_size=30),
    st.lists(st.tuples(finite_or_not, finite_or_not, st.booleans()), max_size=30),
    st.integers(0, 3),
)
def test_no_crash_on_any_input_shape(
    n_minutes: int,
    hr: list[tuple[float, float]],
    steps: list[tuple[float, float, float]],
    bike: list[tuple[float, float, bool]],
    ragged: int,
) -> None:
    """Any values, lengths or day sizes either give a grid that analyses or an InputError."""

    def col(rows: Sequence[tuple[float | bool, ...]], i: int, shift: bool = False) -> np.ndarray:
        out = np.array([r[i] for r in rows], dtype=np.float64)
        return np.concatenate([out, [1.0]]) if shift else out

    near = [(DAY0_S + (abs(t) % 200_000 if np.isfinite(t) else t), v) for t, v in hr]
    try:
        grid = build_minute_grid(
            day_start_s=DAY0_S,
            n_minutes=n_minutes,
            hr_t_s=col(near, 0),
            hr_bpm=col(near, 1, shift=ragged == 1),
            steps_end_t_s=col(steps, 0),
            steps_count=col(steps, 1),
            steps_interval_s=col(steps, 2, shift=ragged == 2),
            cadence_t_s=col(bike, 0),
            cadence_spm=col(bike, 1),
            cadence_running=col(bike, 2),
            bike_t_s=col(bike, 0),
            bike_rpm=col(bike, 1),
            bike_power_w=col(bike, 1, shift=ragged == 3),
        )
    except InputError as exc:
        named = exc.fields["field"]
    else:
        named = ""
    if named:
        return
    assert grid.steps.shape == (n_minutes,)
    assert np.all(np.isfinite(grid.steps))
    summary = analyse_day(grid=grid, day=DAY0, patient=patient())
    assert 0 <= summary.wear_minutes <= n_minutes
