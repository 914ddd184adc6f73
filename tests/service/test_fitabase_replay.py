"""Real data through the real path: 10 Fitabase users as patients, via ``POST /v1/ingest`` and the worker.

The users of ``tests/fixtures/fitabase`` (which and why: its SOURCE.txt) become patients 8 weeks
after an endoscopic discectomy on the data's first day (2016-04-12, America/New_York, born 1970),
one device each; their minute steps and second-level heart rate are posted in time order in
batches of at most 20,000 samples, and the worker drains the queue on real PostgreSQL
(``tests/service/fitabase_replay.py``, which also runs standalone and prints the flags per rule:
``python -m tests.service.fitabase_replay``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.service.fitabase_replay import (
    NON_URGENT,
    ReplayResult,
    app_client,
    format_report,
    load_fitabase,
    replay,
)

# Counted from the fixture's rows alone (tests/fixtures/fitabase/SOURCE.txt, "Day counts"): the
# complete days (1,440 minute rows) whose minutes add up to the vendor's TotalSteps exactly,
# 24 of them days without a step.
EXACT_VENDOR_DAYS = 237
# The product's budget (DESIGN.md, "Judgement and alerts"): at most one non-urgent alert per
# patient-week on real data from people who recover well; these users are at weeks 9-13.
NON_URGENT_PER_PATIENT_WEEK = 1.0


@pytest.fixture(scope="module")
async def result(make_database: Callable[[], str]) -> AsyncIterator[ReplayResult]:
    db_url = make_database()  # a fresh database of its own: the replay fills ten patients
    async with app_client(db_url) as client:
        yield await replay(client, db_url, load_fitabase())


def test_daily_steps_equal_the_vendor_totals_on_every_exact_day(result: ReplayResult) -> None:
    assert result.exact_days() == EXACT_VENDOR_DAYS
    assert sum(v.total_steps == 0 for u in result.data.users for v in u.vendor.values() if v.exact)
    # (user, day, vendor TotalSteps, stored steps or None when the day has no summary)
    assert result.steps_mismatches() == []


def test_every_day_of_the_data_is_judged_as_a_complete_day(result: ReplayResult) -> None:
    # Also the two vendor days without a single minute row (1503960366, 8792009665).
    assert result.unjudged_days() == []
    # Monitoring starts on the first sample's day (the devices were made today, years later),
    # and no day before it is judged.
    assert [o.monitoring_from for o in result.outcomes] == [u.first_day for u in result.data.users]
    assert result.days_outside_span() == []
    statuses = {s for o in result.outcomes for (_, s, _) in o.summaries.values()}
    # Every day of 2016 has ended: none is "in_progress"; each is judged or lacks the data.
    assert statuses <= {"insufficient_data", "below", "on_track", "above"}


def test_non_urgent_flags_stay_within_one_per_patient_week(result: ReplayResult) -> None:
    flags = list(result.flags_in_span())
    assert all({"code", "severity", "message", "evidence"} <= set(f) for _, _, f in flags)
    rate = result.non_urgent_per_patient_week()
    non_urgent = sum(f["severity"] in NON_URGENT for _, _, f in flags)
    assert rate <= NON_URGENT_PER_PATIENT_WEEK, (
        f"{non_urgent} non-urgent flags in {result.patient_weeks:.1f} patient-weeks"
        f" ({rate:.2f} per patient-week):\n{format_report(result)}"
    )
