"""Minute grid binning, step spreading and wear detection on crafted arrays."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import InputError, basic_day_stats, wear_mask
from tests.analysis.analysis_helpers import DAY0_S, make_grid


def test_samples_outside_the_day_are_ignored() -> None:
    grid = make_grid(
        hr_t_s=[DAY0_S - 1, DAY0_S, DAY0_S + 59.9, DAY0_S + 86_400],
        hr_bpm=[200, 70, 80, 200],
    )
    assert grid.hr_count[0] == 2
    assert grid.hr_count.sum() == 2
    assert grid.hr_mean_bpm[0] == 75
    assert grid.hr_max_bpm[0] == 80
    assert np.isnan(grid.hr_mean_bpm[1])


def test_step_sample_spread_over_overlapping_minutes() -> None:
    # 90 steps over (00:00:30, 00:02:00]: 30 s in minute 0, 60 s in minute 1.
    grid = make_grid(steps_end_t_s=[DAY0_S + 120], steps_count=[90], steps_interval_s=[90])
    assert grid.steps[0] == pytest.approx(30)
    assert grid.steps[1] == pytest.approx(60)
    assert grid.steps.sum() == pytest.approx(90)


def test_long_step_sample_fills_interior_minutes() -> None:
    # 600 steps over ten minutes starting half a minute in.
    grid = make_grid(steps_end_t_s=[DAY0_S + 630], steps_count=[600], steps_interval_s=[600])
    assert grid.steps[0] == pytest.approx(30)
    assert np.allclose(grid.steps[1:10], 60)
    assert grid.steps[10] == pytest.approx(30)
    assert np.all(grid.steps[11:] == 0)


def test_margin_before_the_day_is_cut_proportionally() -> None:
    # An hourly sample ending 30 minutes into the day: half its steps belong to the day.
    grid = make_grid(steps_end_t_s=[DAY0_S + 1800], steps_count=[1200], steps_interval_s=[3600])
    assert grid.steps.sum() == pytest.approx(600)
    assert np.allclose(grid.steps[:30], 20)


def test_aligned_minute_samples_keep_exact_integer_totals() -> None:
    ends = DAY0_S + 60 * np.arange(1, 1441)
    counts = np.arange(1440) % 7
    grid = make_grid(steps_end_t_s=ends, steps_count=counts, steps_interval_s=np.full(1440, 60))
    assert np.array_equal(grid.steps, counts.astype(float))
    assert basic_day_stats(grid).steps == int(counts.sum())


def test_cadence_prefers_samples_then_steps() -> None:
    grid = make_grid(
        steps_end_t_s=[DAY0_S + 60, DAY0_S + 120],
        steps_count=[50, 70],
        steps_interval_s=[60, 60],
        cadence_t_s=[DAY0_S + 10, DAY0_S + 20],
        cadence_spm=[100, 110],
        cadence_running=[0, 1],
    )
    assert grid.cadence_spm[0] == 105
    assert grid.cadence_spm[1] == 70
    assert np.isnan(grid.cadence_spm[2])
    assert grid.running[0]
    assert not grid.running[1]


def test_bike_power_ignores_missing_values() -> None:
    grid = make_grid(
        bike_t_s=[DAY0_S + 1, DAY0_S + 2, DAY0_S + 61],
        bike_rpm=[60, 70, 80],
        bike_power_w=[40, np.nan, np.nan],
    )
    assert grid.bike_rpm[0] == 65
    assert grid.bike_power_w[0] == 40
    assert grid.bike_rpm[1] == 80
    assert np.isnan(grid.bike_power_w[1])


def test_gap_of_59_minutes_is_worn_and_60_is_not() -> None:
    hr_count = np.ones(300, dtype=np.int64)
    hr_count[10:69] = 0  # 59 empty minutes
    hr_count[100:160] = 0  # 60 empty minutes
    worn = wear_mask(hr_count=hr_count, steps=np.zeros(300))
    assert worn[10:69].all()
    assert not worn[100:160].any()
    assert worn[160:].all()
    assert worn.sum() == 240


def test_steps_alone_mark_wear() -> None:
    grid = make_grid(steps_end_t_s=[DAY0_S + 600], steps_count=[5], steps_interval_s=[60])
    # Minute 9 has steps; the 9 minutes before are a short gap, the rest of the day a long one.
    assert grid.worn[:10].all()
    assert not grid.worn[10:].any()
    assert basic_day_stats(grid).wear_minutes == 10


@pytest.mark.parametrize("n_minutes", [1380, 1440, 1500])
def test_dst_day_lengths(n_minutes: int) -> None:
    last_minute_s = DAY0_S + 60 * (n_minutes - 1)
    grid = make_grid(
        n_minutes=n_minutes, hr_t_s=[last_minute_s, last_minute_s + 60], hr_bpm=[60, 60]
    )
    assert grid.steps.shape == (n_minutes,)
    assert grid.hr_count.sum() == 1
    assert grid.day_end_s == DAY0_S + 60 * n_minutes


def test_basic_stats_heart_rate_and_active_minutes() -> None:
    grid = make_grid(
        hr_t_s=[DAY0_S, DAY0_S + 1, DAY0_S + 60, DAY0_S + 180],
        hr_bpm=[60, 80, 100, 80],
        steps_end_t_s=DAY0_S + 60 * np.arange(1, 4),
        steps_count=[59, 60, 100],
        steps_interval_s=[60, 60, 60],
        bike_t_s=[DAY0_S + 200],
        bike_rpm=[55],
        bike_power_w=[30],
    )
    stats = basic_day_stats(grid)
    assert stats.hr_min_bpm == 70
    assert stats.hr_avg_bpm == pytest.approx(80)
    assert stats.wear_minutes == 4
    assert stats.hr_max_bpm == 100
    assert stats.active_minutes == 3  # minutes 1, 2 walking and minute 3 pedalling
    assert stats.steps == 219


def test_pedalling_without_band_data_is_not_active() -> None:
    grid = make_grid(bike_t_s=[DAY0_S + 200], bike_rpm=[55], bike_power_w=[30])
    assert basic_day_stats(grid).active_minutes == 0


def test_no_heart_rate_gives_none() -> None:
    stats = basic_day_stats(make_grid())
    assert stats.hr_min_bpm is None
    assert stats.hr_avg_bpm is None
    assert stats.hr_max_bpm is None
    assert stats.wear_minutes == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"n_minutes": 0}, "n_minutes"),
        ({"hr_t_s": [1, 2], "hr_bpm": [1]}, "hr_bpm"),
        ({"hr_t_s": [[1]], "hr_bpm": [[1]]}, "hr_t_s"),
        ({"steps_end_t_s": [1], "steps_count": [1], "steps_interval_s": [0]}, "steps_interval_s"),
    ],
)
def test_invalid_input_names_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as info:
        make_grid(**kwargs)  # type: ignore[arg-type]
    assert info.value.fields["field"] == field
