"""``rehab bench analysis``: patient-days/s through the analysis engine, next to a reduction floor.

Synthetic, seeded patient-days are built in memory (no database). Three paths are timed in the
same run, single-threaded, best of a few repeats: binning raw samples into minute grids, the
full :func:`analysis.analyse_day` path from grids (sessions, intensity, plan, flags, history),
and one plain reduction pass over the same grid arrays (the memory-bound floor), looping over
days like the engine does and once stacked across days.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
from rich.console import Console
from rich.table import Table

from analysis import DaySummary, MinuteGrid, PatientProfile, analyse_day
from analysis.simulate import simulate_days

__all__ = ["run"]

# 2026-05-04T00:00:00Z, a fixed start so that runs are comparable.
_T0_S = 1_777_852_800
_FIRST_DAY = date(2026, 5, 4)
# Days simulated per patient: a month of monitoring, so the multi-day rules see real history.
_DAYS_PER_PATIENT = 30
# Repeats per timing; the best is reported (tunable default: 3 damps scheduler noise).
_REPEATS = 3
# History window handed to analyse_day, days (the engine uses three weeks).
_HISTORY_DAYS = 21
_GRID_FIELDS = (
    "steps", "hr_mean_bpm", "hr_max_bpm", "hr_count", "cadence_spm", "running",
    "bike_rpm", "bike_power_w", "worn",
)  # fmt: skip


def _best(fn: Callable[[], object]) -> float:
    """Best wall time of a few runs of ``fn``, seconds."""
    times = []
    for _ in range(_REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def run(console: Console, *, days: int = 2000, seed: int = 0) -> None:
    """Print patient-days/s for grid building, ``analyse_day`` and a plain reduction pass.

    Parameters
    ----------
    console
        Where the table goes.
    days
        Patient-days to simulate (split into patients of 30 days).
    seed
        Seed of the simulation.
    """
    rng = np.random.default_rng(seed)
    patients: list[tuple[PatientProfile, list[MinuteGrid]]] = []
    samples = []
    for p in range(0, days, _DAYS_PER_PATIENT):
        n = min(_DAYS_PER_PATIENT, days - p)
        sim = simulate_days(
            seed=int(rng.integers(2**31)),
            n_days=n,
            first_day_start_s=_T0_S,
            daily_walk_min=float(rng.uniform(10, 40)),
            running_probability=0.05,
        )
        samples.extend(sim)
        profile = PatientProfile(
            birth_year=int(rng.integers(1940, 1990)),
            surgery_type=("discectomy", "laminectomy", "fusion", "other")[
                p // _DAYS_PER_PATIENT % 4
            ],
            approach=("open", "minimally_invasive", "endoscopic")[p // _DAYS_PER_PATIENT % 3],
            surgery_date=_FIRST_DAY - timedelta(days=int(rng.integers(0, 30))),
            beta_blocker=bool(rng.random() < 0.1),
        )
        patients.append((profile, [d.build_grid() for d in sim]))
    grids = [g for _, gs in patients for g in gs]
    n_samples = sum(int(v.size) for d in samples for v in d.samples.values())

    def build_all() -> None:
        for d in samples:
            d.build_grid()

    def analyse_all() -> None:
        for profile, gs in patients:
            history: list[DaySummary] = []
            for i, g in enumerate(gs):
                summary = analyse_day(
                    grid=g,
                    day=_FIRST_DAY + timedelta(days=i),
                    patient=profile,
                    history=history[-_HISTORY_DAYS:],
                    previous_grid=gs[i - 1] if i else None,
                    next_grid=gs[i + 1] if i + 1 < len(gs) else None,
                )
                history.append(summary)

    def reduce_per_day() -> None:
        for g in grids:
            for name in _GRID_FIELDS:
                getattr(g, name).sum()

    stacked = [np.stack([getattr(g, name) for g in grids]) for name in _GRID_FIELDS]

    def reduce_stacked() -> None:
        for arr in stacked:
            arr.sum()

    analyse_day(grid=grids[0], day=_FIRST_DAY, patient=patients[0][0])  # load plan and thresholds
    t_build = _best(build_all)
    t_analyse = _best(analyse_all)
    t_floor = _best(reduce_per_day)
    t_stacked = _best(reduce_stacked)

    table = Table(
        title=f"analysis: {days} synthetic patient-days, single thread, best of {_REPEATS}"
    )
    table.add_column("path")
    table.add_column("patient-days/s", justify="right")
    table.add_column("µs/day", justify="right")
    table.add_column("× floor (per-day loop)", justify="right")
    rows = [
        (f"build_minute_grid ({n_samples / days:,.0f} samples/day)", t_build),
        ("analyse_day (sessions, HR, plan, flags, history, neighbours)", t_analyse),
        ("floor: one reduction pass, loop over days", t_floor),
        ("floor: one reduction pass, stacked across days", t_stacked),
    ]
    for label, seconds in rows:
        table.add_row(
            label,
            f"{days / seconds:,.0f}",
            f"{seconds / days * 1e6:,.1f}",
            f"{seconds / t_floor:,.1f}",
        )
    console.print(table)
