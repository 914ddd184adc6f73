"""Recovery trajectories: each patient against their own baseline and the expected band.

The baseline is measured from valid pre-operative days (``analysis.preoperative_baseline``) or
entered by the care team with its source (:func:`set_baseline`, kept with its history in
``patient_baselines``, migration 0020; the newest entry wins over the measured one). The
trajectory is built from the stored daily summaries (:func:`trajectory_of`,
:func:`team_trajectories`). ``RECOVERY_BEHIND`` is judged when a week since surgery completes:
the worker calls :func:`on_day_stored` after each stored day, and the alert goes through
``service.alerts.raise_alert`` as a service check (severity info: it never notifies).
"""

from service.trajectory._baselines import (
    BaselineEntry,
    baseline_history,
    entered_baseline,
    set_baseline,
)
from service.trajectory._build import on_day_stored, patient_today, team_trajectories, trajectory_of

__all__ = [
    "BaselineEntry",
    "baseline_history",
    "entered_baseline",
    "on_day_stored",
    "patient_today",
    "set_baseline",
    "team_trajectories",
    "trajectory_of",
]
