"""Patient records, their devices, plans and change history, and the access rule over them."""

from service.patients.access import PatientAccess, check_patient_access
from service.patients.changes import (
    PatientChange,
    PatientPatch,
    PlanOverrideIn,
    PlanOverrideRecord,
    add_plan_override,
    list_changes,
    list_plan_overrides,
    update_patient,
)
from service.patients.devices import add_device, report_status, resolve_device_token, revoke_device
from service.patients.enrollment import (
    DeviceRecord,
    EnrollmentCode,
    issue_enrollment_code,
    list_devices,
    redeem,
)
from service.patients.store import PatientIn, PatientRecord, add_patient, get_patient, list_patients

__all__ = [
    "DeviceRecord",
    "EnrollmentCode",
    "PatientAccess",
    "PatientChange",
    "PatientIn",
    "PatientPatch",
    "PatientRecord",
    "PlanOverrideIn",
    "PlanOverrideRecord",
    "add_device",
    "add_patient",
    "add_plan_override",
    "check_patient_access",
    "get_patient",
    "issue_enrollment_code",
    "list_changes",
    "list_devices",
    "list_patients",
    "list_plan_overrides",
    "redeem",
    "report_status",
    "resolve_device_token",
    "revoke_device",
    "update_patient",
]
