"""Real FIT recordings (``tests/fixtures/fit``): the analysis against the devices' own figures.

Each file is decoded with fitdecode into the analysis's raw-sample arrays: heart rate at its record
times, running cadence (FIT gives strides per minute: steps are twice that) or crank cadence on the
bike. The day around the recording has nothing else, so it has far fewer than the 120 heart-rate
minutes a resting estimate needs: the heart-rate rules must still run, against a limit from HRmax,
and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import fitdecode
import numpy as np
import pytest

from analysis import Clearances, DaySummary, PatientProfile, analyse_day, build_minute_grid

FIT = Path(__file__).resolve().parents[1] / "fixtures" / "fit"
BIRTH_YEAR = 1970


@dataclass(frozen=True)
class Recording:
    """Samples of one FIT file, with its session's own figures."""

    sport: str
    hr_t_s: np.ndarray
    hr_bpm: np.ndarray
    cadence_t_s: np.ndarray
    cadence_per_min: np.ndarray
    session_avg_hr_bpm: int | None
    session_max_hr_bpm: int | None
    timer_s: float

    @property
    def day(self) -> date:
        return datetime.fromtimestamp(float(self.hr_t_s[0]), tz=UTC).date()


def _read(name: str) -> Recording:
    hr_t: list[float] = []
    hr: list[float] = []
    cad_t: list[float] = []
    cad: list[float] = []
    session: dict[str, object] = {}
    with fitdecode.FitReader(FIT / name) as reader:
        for frame in reader:
            if not isinstance(frame, fitdecode.FitDataMessage):
                continue
            if frame.name == "session":
                session = {f.name: f.value for f in frame.fields}
            elif frame.name == "record":
                values = {f.name: f.value for f in frame.fields}
                t = values["timestamp"].timestamp()
                if values.get("heart_rate") is not None:
                    hr_t.append(t)
                    hr.append(float(values["heart_rate"]))
                if values.get("cadence") is not None:
                    cad_t.append(t)
                    cad.append(float(values["cadence"]))
    avg, peak = session.get("avg_heart_rate"), session.get("max_heart_rate")
    return Recording(
        sport=str(session["sport"]),
        hr_t_s=np.array(hr_t),
        hr_bpm=np.array(hr),
        cadence_t_s=np.array(cad_t),
        cadence_per_min=np.array(cad),
        session_avg_hr_bpm=int(avg) if isinstance(avg, int) else None,
        session_max_hr_bpm=int(peak) if isinstance(peak, int) else None,
        timer_s=float(session["total_timer_time"]),  # type: ignore[arg-type]
    )


def _analyse(rec: Recording, *, weeks_after_surgery: int, **patient: object) -> DaySummary:
    start_s = int(datetime(rec.day.year, rec.day.month, rec.day.day, tzinfo=UTC).timestamp())
    empty = np.zeros(0)
    on_bike = rec.sport == "cycling"
    # FIT running cadence counts one foot (strides/min); the analysis wants steps/min.
    steps_per_min = rec.cadence_per_min * 2.0
    grid = build_minute_grid(
        day_start_s=start_s,
        n_minutes=1440,
        hr_t_s=rec.hr_t_s,
        hr_bpm=rec.hr_bpm,
        steps_end_t_s=empty,
        steps_count=empty,
        steps_interval_s=empty,
        cadence_t_s=empty if on_bike else rec.cadence_t_s,
        cadence_spm=empty if on_bike else steps_per_min,
        cadence_running=empty if on_bike else np.zeros(rec.cadence_t_s.size),
        bike_t_s=rec.cadence_t_s if on_bike else empty,
        bike_rpm=rec.cadence_per_min if on_bike else empty,
        bike_power_w=np.full(rec.cadence_t_s.size, np.nan) if on_bike else empty,
    )
    profile = PatientProfile(
        birth_year=BIRTH_YEAR,
        surgery_type="discectomy",
        approach="open",
        surgery_date=rec.day - timedelta(weeks=weeks_after_surgery - 1),
        **patient,  # type: ignore[arg-type]
    )
    return analyse_day(grid=grid, day=rec.day, patient=profile)


def _codes(summary: DaySummary) -> set[str]:
    return {f.code for f in summary.flags}


@pytest.mark.parametrize(
    "name", ["2013-02-06-12-11-14.fit", "sample-activity-indoor-trainer.fit"], ids=str
)
def test_heart_rate_figures_match_the_device_session(name: str) -> None:
    rec = _read(name)
    summary = _analyse(rec, weeks_after_surgery=3)
    assert rec.session_avg_hr_bpm is not None
    assert rec.session_max_hr_bpm is not None
    assert summary.heart_rate.mean_bpm is not None
    assert summary.heart_rate.max_bpm is not None
    # The grid's mean is over the records, the device's over time (1 s samples it did not all
    # write): rounded, they agree within 1 bpm (148.09 against 147, 147.75 against 148).
    assert abs(round(summary.heart_rate.mean_bpm) - rec.session_avg_hr_bpm) <= 1
    assert summary.heart_rate.max_bpm == rec.session_max_hr_bpm


def test_a_hard_run_without_a_resting_rate_is_flagged_against_hrmax() -> None:
    rec = _read("2013-02-06-12-11-14.fit")
    summary = _analyse(rec, weeks_after_surgery=3)
    hr = summary.heart_rate
    # 44 minutes of heart rate: no resting estimate of the day's own, none from history.
    assert hr.resting_source == "none"
    assert hr.rules_checked
    assert hr.limit_basis == "hr_max"
    assert hr.not_checked_reason
    assert "HR_OVER_LIMIT" in _codes(summary)


def test_running_before_clearance_is_one_finding_not_two() -> None:
    rec = _read("activity-small-fenix2-run.fit")
    summary = _analyse(rec, weeks_after_surgery=3)
    assert [s.kind for s in summary.sessions] == ["running"]
    # The device's timer covers the whole recording: the session is within two minutes of it.
    assert abs(summary.sessions[0].duration_min - rec.timer_s / 60) <= 2
    assert _codes(summary) >= {"HIGH_IMPACT_BEFORE_CLEARANCE"}
    assert "HR_OVER_LIMIT" not in _codes(summary)


def test_once_running_is_cleared_its_heart_rate_is_judged() -> None:
    rec = _read("activity-small-fenix2-run.fit")
    cleared = Clearances(running=rec.day - timedelta(days=1))
    summary = _analyse(rec, weeks_after_surgery=3, clearances=cleared)
    assert "HIGH_IMPACT_BEFORE_CLEARANCE" not in _codes(summary)
    assert "HR_OVER_LIMIT" in _codes(summary)


def test_a_hard_ride_is_a_bike_session_over_the_limit() -> None:
    rec = _read("sample-activity-indoor-trainer.fit")
    summary = _analyse(rec, weeks_after_surgery=3)
    assert [s.kind for s in summary.sessions] == ["biking"]
    assert abs(summary.sessions[0].duration_min - rec.timer_s / 60) <= 2
    assert summary.sessions[0].cadence_mean_per_min == pytest.approx(82, abs=3)
    assert "HR_OVER_LIMIT" in _codes(summary)


def test_on_beta_blockers_the_summary_says_why_heart_rate_is_not_judged() -> None:
    rec = _read("2013-02-06-12-11-14.fit")
    summary = _analyse(rec, weeks_after_surgery=3, beta_blocker=True)
    assert not summary.heart_rate.rules_checked
    assert summary.heart_rate.not_checked_reason
    assert "HR_OVER_LIMIT" not in _codes(summary)
