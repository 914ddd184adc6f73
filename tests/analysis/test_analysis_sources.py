"""One source per kind and minute (analysis.choose_sources)."""

from __future__ import annotations

import numpy as np
import pytest

import analysis
from analysis import InputError, choose_sources


def _choose(rows: list[tuple[int, int, int, int]]) -> analysis.SourceChoice:
    """Rows of (minute, source rank, steps, heart-rate samples); no cadence or bike."""
    minute, rank, steps, hr = (np.array(c, dtype=np.int64) for c in zip(*rows, strict=True))
    zeros = np.zeros(len(rows), dtype=np.int64)
    return choose_sources(
        minute_index=minute,
        source_rank=rank,
        steps_nstep=steps,
        hr_count=hr,
        cadence_count=zeros,
        bike_rpm_count=zeros,
    )


def test_overlapping_minutes_take_the_source_with_more_data() -> None:
    # Minute 0: the band (rank 0) counted 90 steps, the watch (rank 1) 100: the watch wins, and
    # the band wins the heart rate (60 samples against 1).
    choice = _choose([(0, 0, 90, 60), (0, 1, 100, 1), (1, 0, 80, 60), (1, 1, 70, 0)])
    assert choice.steps.tolist() == [False, True, True, False]
    assert choice.heart_rate.tolist() == [True, False, True, False]
    steps = np.array([90, 100, 80, 70])
    assert steps[choice.steps].sum() == 180  # never 340 (both added up)


def test_disjoint_minutes_keep_every_source() -> None:
    choice = _choose([(0, 0, 50, 10), (1, 1, 60, 0), (2, 2, 0, 5)])
    assert choice.steps.tolist() == [True, True, False]  # a row without steps is never chosen
    assert choice.heart_rate.tolist() == [True, False, True]
    assert not choice.cadence.any()
    assert not choice.bike.any()


def test_ties_go_to_the_lower_rank_whatever_the_row_order() -> None:
    rows = [(5, 3, 100, 2), (5, 1, 100, 2), (5, 2, 100, 2)]
    choice = _choose(rows)
    assert choice.steps.tolist() == [False, True, False]
    assert choice.heart_rate.tolist() == [False, True, False]
    reversed_choice = _choose(rows[::-1])
    assert reversed_choice.steps.tolist() == [False, True, False]


def test_one_winner_per_minute_in_a_large_random_case() -> None:
    rng = np.random.default_rng(15)
    n = 5000
    minute = rng.integers(0, 1440, n)
    rank = rng.integers(0, 10_000, n)
    _, keep = np.unique(np.stack([minute, rank]), axis=1, return_index=True)
    minute, rank = minute[keep], rank[keep]
    steps = rng.integers(0, 3, len(minute))
    hr = rng.integers(0, 3, len(minute))
    choice = choose_sources(
        minute_index=minute,
        source_rank=rank,
        steps_nstep=steps,
        hr_count=hr,
        cadence_count=hr,
        bike_rpm_count=steps,
    )
    for mask, score in ((choice.steps, steps), (choice.heart_rate, hr)):
        assert np.unique(minute[mask]).size == mask.sum()  # at most one per minute
        for m in np.unique(minute[score > 0])[:50]:
            here = (minute == m) & (score > 0)
            best = score[here].max()
            want = rank[here & (score == best)].min()
            (got,) = np.flatnonzero(mask & (minute == m))
            assert (score[got], rank[got]) == (best, want)
    assert np.array_equal(choice.cadence, choice.heart_rate)
    assert np.array_equal(choice.bike, choice.steps)


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError):
        _choose([(0, 1, 5, 0), (0, 1, 6, 0)])  # one source twice in a minute
    with pytest.raises(InputError):
        choose_sources(
            minute_index=[0, 1],
            source_rank=[0],
            steps_nstep=[1, 1],
            hr_count=[0, 0],
            cadence_count=[0, 0],
            bike_rpm_count=[0, 0],
        )
