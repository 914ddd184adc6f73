"""Patient records, their devices, and the access rule that scopes both to care teams."""

from service.patients.access import patient_for
from service.patients.devices import add_device, resolve_device_token
from service.patients.store import PatientIn, PatientRecord, add_patient, get_patient, list_patients

__all__ = [
    "PatientIn",
    "PatientRecord",
    "add_device",
    "add_patient",
    "get_patient",
    "list_patients",
    "patient_for",
    "resolve_device_token",
]
