"""Alert notifications per care team: signed webhooks and e-mail, urgent at once, others batched.

Queue with :func:`queue_alert` inside the transaction that opens the alert; a :class:`Notifier`
(owned by the app lifespan) delivers due rows from a loop, and right away for urgent alerts raised
by a request (:meth:`Notifier.notify_soon`, bounded by a short timeout).
"""

from service.notify._deliver import Notifier, PeriodicCheck, RetryPolicy
from service.notify._queue import queue_alert
from service.notify._send import SIGNATURE_HEADER, sign, verify_signature
from service.notify._targets import (
    EMAIL_NEEDS_SMTP,
    DeliveryRecord,
    TargetIn,
    TargetRecord,
    add_target,
    list_deliveries,
    list_targets,
    set_target_active,
)

__all__ = [
    "EMAIL_NEEDS_SMTP",
    "SIGNATURE_HEADER",
    "DeliveryRecord",
    "Notifier",
    "PeriodicCheck",
    "RetryPolicy",
    "TargetIn",
    "TargetRecord",
    "add_target",
    "list_deliveries",
    "list_targets",
    "queue_alert",
    "set_target_active",
    "sign",
    "verify_signature",
]
