"""Queueing notifications for an alert: one delivery per active target of the alert's team."""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection

__all__ = ["queue_alert"]


async def queue_alert(
    conn: AsyncConnection[Any],
    *,
    alert_id: int,
    team_id: object,
    digest: bool,
    digest_interval_s: int,
    reminder: bool = False,
) -> list[int]:
    """Queue ``alert_id`` for every active target of ``team_id``; return new delivery ids.

    Urgent alerts get their own delivery, due at once (a ``reminder`` when the alert was not
    acknowledged in time). Others join the target's pending digest, or start one due at the next
    multiple of ``digest_interval_s`` (UTC epoch).
    """
    if not digest:
        cur = await conn.execute(
            "INSERT INTO notification_deliveries (target_id, alert_ids, digest, reminder)"
            " SELECT id, ARRAY[%s::bigint], false, %s FROM notification_targets"
            " WHERE team_id = %s AND active RETURNING id",
            (alert_id, reminder, team_id),
        )
        return [row[0] for row in await cur.fetchall()]
    cur = await conn.execute(
        "WITH t AS (SELECT id FROM notification_targets WHERE team_id = %(team)s AND active),"
        " joined AS (UPDATE notification_deliveries d SET alert_ids = d.alert_ids || %(alert)s::bigint"
        "   FROM t WHERE d.target_id = t.id AND d.digest AND d.status = 'pending' AND d.attempts = 0"
        "   RETURNING d.target_id)"
        " INSERT INTO notification_deliveries (target_id, alert_ids, digest, due_at)"
        " SELECT id, ARRAY[%(alert)s::bigint], true,"
        "   to_timestamp(ceil(extract(epoch FROM now()) / %(every)s) * %(every)s)"
        " FROM t WHERE id NOT IN (SELECT target_id FROM joined) RETURNING id",
        {"team": team_id, "alert": alert_id, "every": digest_interval_s},
    )
    return [row[0] for row in await cur.fetchall()]
