"""The fleet in a scratch database: patients, devices and tokens, teams and clinicians (COPY)."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from service.accounts import ACCESS_TOKEN_PREFIX
from service.auth import hash_token, new_token
from service.patients.devices import DEVICE_TOKEN_PREFIX

__all__ = ["Fleet", "provision"]


@dataclass(frozen=True)
class Fleet:
    patient_ids: list[uuid.UUID]
    device_tokens: list[str]
    team_of: list[int]  # team index of each patient
    clinician_tokens: list[str]  # one per team
    seconds: float


def _copy(conn: psycopg.Connection[Any], statement: str, rows: Iterator[tuple[Any, ...]]) -> None:
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def provision(db_url: str, *, hubs: int, team_size: int, seed: int) -> Fleet:
    """N patients with a device and token each, in teams with one clinician each (COPY)."""
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    n_teams = math.ceil(hubs / team_size)
    team_ids = [uuid.uuid4() for _ in range(n_teams)]
    user_ids = [uuid.uuid4() for _ in range(n_teams)]
    patient_ids = [uuid.uuid4() for _ in range(hubs)]
    team_of = [i // team_size for i in range(hubs)]
    device_tokens = [new_token(DEVICE_TOKEN_PREFIX) for _ in range(hubs)]
    clinician_tokens = [new_token(ACCESS_TOKEN_PREFIX) for _ in range(n_teams)]
    today = datetime.now(UTC).date()
    # Operated two to ten weeks ago: inside the monitored recovery (tunable default).
    surgery_days = rng.integers(14, 70, size=hubs)
    birth_years = rng.integers(1940, 1990, size=hubs)
    surgery_types = ("discectomy", "laminectomy", "fusion", "other")
    kinds = rng.integers(0, len(surgery_types), size=hubs)
    expires = datetime.now(UTC) + timedelta(days=2)
    with psycopg.connect(db_url) as conn:
        _copy(
            conn,
            "COPY care_teams (id, name) FROM STDIN",
            ((t, f"Fleet team {i + 1}") for i, t in enumerate(team_ids)),
        )
        _copy(
            conn,
            "COPY patients (id, team_id, display_name, birth_year, tz, surgery_type,"
            " surgery_date) FROM STDIN",
            (
                (
                    p,
                    team_ids[team_of[i]],
                    f"Fleet patient {i + 1}",
                    int(birth_years[i]),
                    "UTC",
                    surgery_types[int(kinds[i])],
                    today - timedelta(days=int(surgery_days[i])),
                )
                for i, p in enumerate(patient_ids)
            ),
        )
        # The devices' insert trigger sets each patient's monitoring start (migration 0014).
        _copy(
            conn,
            "COPY devices (patient_id, token_hash) FROM STDIN",
            ((p, hash_token(device_tokens[i])) for i, p in enumerate(patient_ids)),
        )
        _copy(
            conn,
            "COPY users (id, email, password_hash, role) FROM STDIN",
            (
                (u, f"fleet-clinician-{i + 1}@clinic.example", "not-a-login", "clinician")
                for i, u in enumerate(user_ids)
            ),
        )
        _copy(
            conn,
            "COPY team_members (team_id, user_id) FROM STDIN",
            zip(team_ids, user_ids, strict=True),
        )
        _copy(
            conn,
            "COPY access_tokens (token_hash, user_id, expires_at) FROM STDIN",
            ((hash_token(t), u, expires) for t, u in zip(clinician_tokens, user_ids, strict=True)),
        )
        conn.commit()
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("ANALYZE")  # as autovacuum would have by the time a fleet is paired
    return Fleet(
        patient_ids=patient_ids,
        device_tokens=device_tokens,
        team_of=team_of,
        clinician_tokens=clinician_tokens,
        seconds=time.perf_counter() - started,
    )
