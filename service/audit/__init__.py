"""The audit log: who read or changed which patient's data, and when.

Entries name the actor, an action (the route's method and path template, such as
``GET /v1/patients/{patient_id}/days``, or a command name), the patient and the outcome. They never
hold health data, request bodies, query strings or secrets.
"""

from service.audit._log import (
    AuditEntry,
    AuditQuery,
    query_audit,
    record_access,
    record_event,
)

__all__ = ["AuditEntry", "AuditQuery", "query_audit", "record_access", "record_event"]
