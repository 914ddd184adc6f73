"""FHIR R4 export of a patient's daily summaries: a ``collection`` Bundle of the ``Patient`` and
daily ``Observation``s following the HL7 Physical Activity IG and the vital-signs profiles.

The builder is pure: it takes the patient and the served days, typed
(:class:`service.summaries.DayRecord`, each with its :class:`analysis.DaySummary`), and returns
the Bundle as a dict.

Mapping (one Observation per patient, code and local day):

- steps per day, LOINC 41950-7, UCUM ``/d``, category ``activity``, profile
  ``pa-observation-time-measure``: judged days only;
- exercise minutes per day (the aerobic minutes in sessions, the figure the plan judges), LOINC
  55411-3, UCUM ``min/d``, category ``activity``, profile ``pa-observation-activity-measure``
  (the IG binds 55411-3 to its activity-based codes): judged days only;
- resting heart rate, LOINC 40443-4 (with 8867-4, which the vital-signs heart-rate profile
  requires), UCUM ``/min``, category ``vital-signs``, profile ``heartrate``: complete days whose
  resting rate was measured that day (``resting_source`` ``estimated``; a setting or the recent
  days' median is not that day's observation);
- maximum heart rate of the day, LOINC 8873-2 (with 8867-4), UCUM ``/min``, ``vital-signs``,
  profile ``heartrate``: complete days with heart rate.

A day in progress (the patient's today) carries nothing: its totals can still grow. Every
Observation's ``effectivePeriod`` is its local day, start and end with the patient's UTC offset.
Identifiers are stable: an ``identifier`` with :data:`OBSERVATION_SYSTEM` and the value
``{patient}/{code}/{day}``, and the ``fullUrl`` ``urn:uuid:`` a uuid5 of the same, so that a
repeated export updates the same resources instead of adding new ones.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import analysis
from service.patients import PatientRecord
from service.summaries import DayRecord

__all__ = [
    "FHIR_JSON",
    "MEASURES",
    "OBSERVATION_SYSTEM",
    "PATIENT_SYSTEM",
    "Measure",
    "build_bundle",
    "observation_key",
]

FHIR_JSON = "application/fhir+json"
#: The identifier system of this service's daily Observations and of its patients.
OBSERVATION_SYSTEM = "urn:rehab-monitor:daily-observation"
PATIENT_SYSTEM = "urn:rehab-monitor:patient"
# Namespace of the uuid5 fullUrls (fixed: changing it would duplicate every exported resource).
_NAMESPACE = uuid.UUID("1f0b8d3e-6a4c-5e2f-9b7d-3c8a1e4f6d20")

_LOINC = "http://loinc.org"
_UCUM = "http://unitsofmeasure.org"
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_PA_CODES = "http://hl7.org/fhir/us/physical-activity/CodeSystem/pa-temporary-codes"
# HL7 Physical Activity IG 1.0.0 (STU 1) profiles, canonical URLs as published: 41950-7 is in
# its time-based value set (pa-observation-code-time), 55411-3 in its activity-based one
# (pa-observation-code-activity).
_PA_PROFILE = "http://hl7.org/fhir/us/physical-activity/StructureDefinition/"
_PA_TIME_MEASURE = _PA_PROFILE + "pa-observation-time-measure"
_PA_ACTIVITY_MEASURE = _PA_PROFILE + "pa-observation-activity-measure"
# FHIR R4 vital-signs heart-rate profile; it requires the 8867-4 coding beside the measure's own.
_VITALS_HEART_RATE = "http://hl7.org/fhir/StructureDefinition/heartrate"
_HEART_RATE = {"system": _LOINC, "code": "8867-4", "display": "Heart rate"}
_CATEGORY_DISPLAY = {"activity": "Activity", "vital-signs": "Vital Signs"}

#: A measure's figure in a day's summary (``None`` when the day has none).
_Read = Callable[[analysis.DaySummary], float | None]


def _judged(field: Callable[[analysis.DaySummary], float]) -> _Read:
    """``field`` of a judged day (complete, with enough wear), else ``None``."""

    def read(summary: analysis.DaySummary) -> float | None:
        return field(summary) if summary.judged else None

    return read


def _heart_rate(
    field: Callable[[analysis.HeartRateSummary], float | None], *, measured: bool
) -> _Read:
    """``field`` of the day's heart rate; with ``measured``, only a rate estimated from the day
    itself."""

    def read(summary: analysis.DaySummary) -> float | None:
        heart_rate = summary.heart_rate
        if measured and heart_rate.resting_source != "estimated":
            return None
        return field(heart_rate)

    return read


@dataclass(frozen=True, kw_only=True)
class Measure:
    """One daily Observation kind: its LOINC code, unit, profile and where it comes from."""

    key: str
    loinc: str
    display: str
    ucum: str
    unit: str
    category: str
    profile: str
    read: _Read

    def value(self, day: DayRecord) -> float | None:
        """This measure's figure on a served day; ``None`` when the day has none (no summary,
        or a day in progress)."""
        summary = day.summary
        if summary is None or summary.status == "in_progress":
            return None
        return self.read(summary)


_FIELDS = ("key", "loinc", "display", "ucum", "unit", "category", "profile", "read")
# key, LOINC, display, UCUM, unit, category, profile, figure of the day's summary
_TABLE: tuple[tuple[Any, ...], ...] = (
    ("steps", "41950-7", "Number of steps in 24 hour Measured", "/d", "steps/day",
     "activity", _PA_TIME_MEASURE, _judged(lambda s: s.steps)),
    ("exercise_minutes", "55411-3", "Exercise duration", "min/d", "min/day",
     "activity", _PA_ACTIVITY_MEASURE, _judged(lambda s: s.aerobic_minutes)),
    ("resting_heart_rate", "40443-4", "Heart rate --resting", "/min", "beats/minute",
     "vital-signs", _VITALS_HEART_RATE, _heart_rate(lambda h: h.resting_bpm, measured=True)),
    ("max_heart_rate", "8873-2", "Heart rate 24 hour maximum", "/min", "beats/minute",
     "vital-signs", _VITALS_HEART_RATE, _heart_rate(lambda h: h.max_bpm, measured=False)),
)  # fmt: skip
MEASURES: tuple[Measure, ...] = tuple(
    Measure(**dict(zip(_FIELDS, row, strict=True))) for row in _TABLE
)


def observation_key(patient_id: uuid.UUID, loinc: str, day: date) -> str:
    """The identifier value of ``patient_id``'s ``loinc`` Observation of ``day``."""
    return f"{patient_id}/{loinc}/{day.isoformat()}"


def _local_iso(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).isoformat(timespec="seconds")


def _period(day: date, zone: ZoneInfo) -> dict[str, str]:
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    # Round-trip through UTC so that a DST day's end carries the offset in force at its end.
    return {
        "start": _local_iso(start.astimezone(UTC), zone),
        "end": _local_iso(end.astimezone(UTC), zone),
    }


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(float(value), 1)


def _observation(
    measure: Measure, patient: PatientRecord, day: date, value: float
) -> dict[str, Any]:
    key = observation_key(patient.id, measure.loinc, day)
    resource_id = str(uuid.uuid5(_NAMESPACE, key))
    coding = [{"system": _LOINC, "code": measure.loinc, "display": measure.display}]
    categories = [
        {
            "coding": [
                {
                    "system": _CATEGORY,
                    "code": measure.category,
                    "display": _CATEGORY_DISPLAY[measure.category],
                }
            ]
        }
    ]
    if measure.category == "activity":  # the IG's second required category
        categories.append({"coding": [{"system": _PA_CODES, "code": "PhysicalActivity"}]})
    else:
        coding.append(dict(_HEART_RATE))
    subject = {"reference": f"urn:uuid:{patient.id}"}
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id,
        "meta": {"profile": [measure.profile]},
        "identifier": [{"system": OBSERVATION_SYSTEM, "value": key}],
        "status": "final",
        "category": categories,
        "code": {"coding": coding, "text": measure.display},
        "subject": subject,
        "performer": [subject],
        "effectivePeriod": _period(day, patient.zone),
        "valueQuantity": {
            "value": _number(value),
            "unit": measure.unit,
            "system": _UCUM,
            "code": measure.ucum,
        },
    }
    return {"fullUrl": f"urn:uuid:{resource_id}", "resource": resource}


def _patient(patient: PatientRecord) -> dict[str, Any]:
    identifiers: list[dict[str, Any]] = [{"system": PATIENT_SYSTEM, "value": str(patient.id)}]
    if patient.record_number:
        identifiers.append(
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                            "code": "MR",
                        }
                    ]
                },
                "value": patient.record_number,
            }
        )
    resource = {
        "resourceType": "Patient",
        "id": str(patient.id),
        "identifier": identifiers,
        "name": [{"text": patient.display_name}],
        "birthDate": f"{patient.birth_year:04d}",
    }
    return {"fullUrl": f"urn:uuid:{patient.id}", "resource": resource}


def build_bundle(
    *,
    patient: PatientRecord,
    days: Iterable[DayRecord],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The ``collection`` Bundle of ``patient`` and the Observations of ``days`` (served days,
    :func:`service.summaries.day_records`, oldest first)."""
    entries = [_patient(patient)]
    for day in days:
        for measure in MEASURES:
            value = measure.value(day)
            if value is not None:
                entries.append(_observation(measure, patient, day.date, value))
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": stamp.replace("+00:00", "Z"),
        "entry": entries,
    }
