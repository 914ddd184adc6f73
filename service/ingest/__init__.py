"""Ingest: validation of uploaded batches and their idempotent bulk storage (see WIRE_FORMAT.md)."""

from service.ingest.store import IngestResult, store_batch
from service.ingest.validate import ParsedBatch, parse_batch

__all__ = ["IngestResult", "ParsedBatch", "parse_batch", "store_batch"]
