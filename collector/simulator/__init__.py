"""A seeded simulated band: realistic patient-days for a recovery stage, and a history streamer.

Every draw comes from ``np.random.default_rng(seed)``, so a seed reproduces a day exactly.
``stage_week`` is the recovery week, 1-based and fractional: 1.0 is the day after surgery, week 1
is ``1 ≤ stage_week < 2``, and values below 1 are before surgery.

It is not ``analysis.simulate``, and both stay: this one is the hub's (``rehab simulate``, the
demo, the benchmarks of the outbox and uploader), a recovery trajectory over weeks encoded as wire
samples at 1 Hz in the patient's local days and streamed through the outbox; that one is pure
numpy for the analysis' snapshot tests, days of a fixed shape (walks, a ride, a run) as minute-grid
inputs. ``analysis`` may not import the collector, and the snapshots pin that one's draws.
"""

from __future__ import annotations

from collector.simulator._day import SimulatedDay, simulate_day
from collector.simulator._history import (
    SimulatedHistory,
    history_profile,
    iter_history,
    local_days,
    simulate_history,
)
from collector.simulator._profiles import (
    DEFAULT_PROFILE,
    PatientProfile,
    hr_max_bpm_for_age,
    sample_profile,
)
from collector.simulator._recovery import (
    recovery_progress,
    ride_probability,
    steps_fraction_of_baseline,
    walk_cadence_spm,
    walk_minutes_per_day,
)
from collector.simulator._stream import StreamResult, stream_history

__all__ = [
    "DEFAULT_PROFILE",
    "PatientProfile",
    "SimulatedDay",
    "SimulatedHistory",
    "StreamResult",
    "history_profile",
    "hr_max_bpm_for_age",
    "iter_history",
    "local_days",
    "recovery_progress",
    "ride_probability",
    "sample_profile",
    "simulate_day",
    "simulate_history",
    "steps_fraction_of_baseline",
    "stream_history",
    "walk_cadence_spm",
    "walk_minutes_per_day",
]
