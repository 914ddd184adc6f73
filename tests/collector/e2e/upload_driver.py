"""The collector's upload path as its own process: drain an outbox into ``POST /v1/ingest``.

``python -m tests.collector.e2e.upload_driver --outbox PATH --server URL --token T`` runs the real
:class:`collector.upload.Uploader` over the real :class:`collector.outbox.Outbox`, as the hub's
upload task does, and prints one ``acked <samples done>`` line per settled batch so that a test
can SIGKILL it between or in the middle of batches. It exits 0 once the outbox is empty.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import httpx

from collector.outbox import Outbox
from collector.upload import Uploader, UploadProgress, UploadRetryPolicy

__all__ = ["main"]

# Retries come quickly so that a restarted service is found within a fraction of a second; the
# hub's defaults (1 s doubling to 5 min) would only make the test slower (tunable defaults).
_RETRY = UploadRetryPolicy(initial_backoff_s=0.05, multiplier=2.0, max_backoff_s=0.5)
_HTTP_TIMEOUT_S = 30.0  # CollectorSettings.http_timeout_s default
_MAX_BYTES = 4 * 1024 * 1024  # CollectorSettings.batch_max_bytes default


def _report(progress: UploadProgress) -> None:
    sys.stdout.write(f"acked {progress.samples_done}\n")
    sys.stdout.flush()


async def _drain(*, outbox_path: Path, server_url: str, token: str, max_samples: int) -> int:
    with Outbox(outbox_path) as outbox:
        async with httpx.AsyncClient(timeout=_HTTP_TIMEOUT_S) as client:
            uploader = Uploader(
                outbox=outbox,
                client=client,
                server_url=server_url,
                device_token=token,
                max_samples=max_samples,
                max_bytes=_MAX_BYTES,
                max_age_s=0.0,
                retry=_RETRY,
            )
            totals = await uploader.drain(progress=_report)
        left = outbox.status()
    sys.stdout.write(
        f"done batches={totals.batches} sent={totals.samples_sent} "
        f"accepted={totals.accepted} duplicates={totals.duplicates} retries={totals.retries} "
        f"left={left.depth_samples} quarantined={left.quarantined_samples}\n"
    )
    return 0 if left.depth_samples == 0 and left.quarantined_samples == 0 else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, drain the outbox, return the exit code."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--max-samples", type=int, default=100)
    args = parser.parse_args(argv)
    return asyncio.run(
        _drain(
            outbox_path=args.outbox,
            server_url=args.server,
            token=args.token,
            max_samples=args.max_samples,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
