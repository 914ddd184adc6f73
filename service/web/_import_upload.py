"""Uploading exported files from the pages: the care team on the patient page, the patient on /me.

The form posts ``multipart/form-data`` with one or more files; the access table (``web_care_team``
for ``/patients/{pid}/import``, ``web_patient_self`` for ``/me/import``) has checked the session,
the CSRF token and the patient. Each file is imported like ``rehab import`` does
(:mod:`service.imports`: all or nothing per file, re-imports harmless); a rejected file answers
an error page naming the file, the record and the problem, and nothing of it is stored.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from psycopg import AsyncConnection
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from service.api.deps import Conn, PageUser, ScopedPatient
from service.errors import PayloadTooLargeError
from service.imports import file_digest, import_parsed, read_file
from service.patients import PatientRecord
from service.web._guard import web_errors
from service.web._html import Html, el, void

__all__ = ["router", "upload_form"]

router = APIRouter(include_in_schema=False)

# Tunable default: one uploaded file at most 512 MiB (Apple Health exports of years of data
# are a few hundred MiB zipped).
MAX_UPLOAD_BYTES = 512 * 1024 * 1024
_ACCEPT = ".fit,.tcx,.gpx,.xml,.zip,.json,.csv"


def upload_form(action: str, csrf: str) -> Html:
    """The upload form: files from a watch, a tracker or a phone."""
    return el(
        "form",
        void("input", type="hidden", name="csrf", value=csrf),
        el("label", "Files (FIT, TCX, GPX, Apple Health export, Fitbit export)", for_="files"),
        void("input", type="file", id="files", name="files", multiple=True, accept=_ACCEPT),
        el("button", "Import", type="submit"),
        method="post",
        action=action,
        enctype="multipart/form-data",
        class_="inline-form",
    )


async def _import_uploads(
    request: Request, conn: AsyncConnection[Any], patient: PatientRecord
) -> int | None:
    """Import every uploaded file; how many samples were stored (``None``: no file chosen)."""
    form = await request.form()
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return None
    try:
        return await _import_files(conn, patient, uploads)
    finally:
        for item in form.getlist("files"):
            if isinstance(item, UploadFile):
                await item.close()


async def _import_files(
    conn: AsyncConnection[Any], patient: PatientRecord, uploads: list[UploadFile]
) -> int:
    stored = 0
    with tempfile.TemporaryDirectory(prefix="rehab-import-") as folder:
        for number, upload in enumerate(uploads):
            name = Path(upload.filename or "upload").name
            path = Path(folder) / f"{number}"
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out)
            if path.stat().st_size > MAX_UPLOAD_BYTES:
                raise PayloadTooLargeError(
                    f"{name}: over the {MAX_UPLOAD_BYTES} byte limit", limit=MAX_UPLOAD_BYTES
                )
            parsed = read_file(path, zone=patient.tz, name=name)
            result = await import_parsed(
                conn, patient=patient, parsed=parsed, digest=file_digest(path)
            )
            stored += result.accepted
    return stored


@router.post("/patients/{pid}/import")
@web_errors
async def clinician_import(
    request: Request, conn: Conn, user: PageUser, patient: ScopedPatient
) -> Response:
    """Import files into the patient's record."""
    stored = await _import_uploads(request, conn, patient)
    notice = "imported" if stored is not None else "no-files"
    return RedirectResponse(f"/patients/{patient.id}?notice={notice}#import", status_code=303)


@router.post("/me/import")
@web_errors
async def patient_import(
    request: Request, conn: Conn, user: PageUser, patient: ScopedPatient
) -> Response:
    """Import the patient's own files."""
    stored = await _import_uploads(request, conn, patient)
    sent = "imported" if stored is not None else "no-files"
    return RedirectResponse(f"/me?sent={sent}#import", status_code=303)
