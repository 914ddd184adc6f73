"""The patient facts the analysis needs: surgery, age, heart-rate overrides and clearances."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal, get_args

from analysis.errors import InputError
from analysis.plan import PlanOverride

__all__ = ["Approach", "Clearances", "PatientProfile", "SurgeryType"]

SurgeryType = Literal["discectomy", "laminectomy", "fusion", "other"]
Approach = Literal["open", "minimally_invasive", "endoscopic"]


@dataclass(frozen=True, kw_only=True)
class Clearances:
    """Dates from which the clinician cleared each modality (``None``: not cleared)."""

    running: date | None = None
    swimming: date | None = None
    elliptical: date | None = None

    def cleared_on(self, modality: str, day: date) -> bool:
        """Whether ``modality`` (running, swimming, elliptical) is cleared on ``day``."""
        since: date | None = getattr(self, modality)
        return since is not None and since <= day


@dataclass(frozen=True, kw_only=True)
class PatientProfile:
    """What the analysis knows about one patient.

    Attributes
    ----------
    birth_year
        Year of birth (age in years is ``day.year - birth_year``, for Tanaka's HRmax).
    surgery_type, approach, surgery_date
        The operation; week 1 since surgery starts on ``surgery_date``.
    resting_hr_bpm, max_hr_bpm, hr_limit_bpm
        Clinician overrides, beats/min (``None``: estimated / derived).
    beta_blocker
        Heart-rate rules are off when set (beta-blockers blunt the heart-rate response).
    clearances
        Modality clearances by date.
    plan_overrides
        Clinician changes to the progression plan, each effective from a date on; the full
        history is kept so past days are judged by the plan in force then.
    """

    birth_year: int
    surgery_type: SurgeryType
    approach: Approach
    surgery_date: date
    resting_hr_bpm: float | None = None
    max_hr_bpm: float | None = None
    hr_limit_bpm: float | None = None
    beta_blocker: bool = False
    clearances: Clearances = field(default_factory=Clearances)
    plan_overrides: tuple[PlanOverride, ...] = ()

    def __post_init__(self) -> None:
        """Validate the enumerations and the heart-rate overrides."""
        if self.surgery_type not in get_args(SurgeryType):
            raise InputError(f"unknown surgery_type {self.surgery_type!r}", field="surgery_type")
        if self.approach not in get_args(Approach):
            raise InputError(f"unknown approach {self.approach!r}", field="approach")
        for name in ("resting_hr_bpm", "max_hr_bpm", "hr_limit_bpm"):
            value = getattr(self, name)
            # 20 … 250 bpm: the range the ingest wire format accepts (WIRE_FORMAT.md).
            if value is not None and not 20 <= value <= 250:
                raise InputError(f"{name} must be 20 … 250 bpm, got {value!r}", field=name)
