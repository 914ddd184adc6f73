"""Importing the files patients already have: FIT, TCX, GPX, Apple Health and Fitbit exports.

:func:`read_file` parses a file (``_fit``, ``_tracks``, ``_apple``, ``_fitbit``, one module per
format) into the :mod:`wire` samples of each of its sources; :func:`import_parsed` validates and
stores them through the ingest path (``_pipeline``: a device per source, idempotent, all or
nothing per file).
"""

from service.imports._model import FileSummary, ImportFileError, ParsedFile, SourceSamples
from service.imports._pipeline import (
    FORMATS,
    ImportResult,
    SourceResult,
    file_digest,
    import_parsed,
    read_file,
)

__all__ = [
    "FORMATS",
    "FileSummary",
    "ImportFileError",
    "ImportResult",
    "ParsedFile",
    "SourceResult",
    "SourceSamples",
    "file_digest",
    "import_parsed",
    "read_file",
]
