"""The durable outbox: restart safety, exact acks, batch ids kept, capacity drops, quarantine."""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from collector.errors import OutboxError
from collector.outbox import DEFAULT_CAPACITY_SAMPLES, Outbox
from collector.wire import HeartRateSample, Sample, StepsSample, decode_batch

T0_S = 1_778_371_200.0  # 2026-05-10T00:00:00Z
BIG = 1 << 30


def _hr(n: int, *, start: int = 0) -> list[HeartRateSample]:
    return [HeartRateSample(t_s=T0_S + i + 0.25, bpm=60 + i % 100) for i in range(start, start + n)]


def _times(outbox_body: bytes) -> list[float]:
    return [s.t_s for s in decode_batch(outbox_body)[1]]


def test_database_uses_wal_and_full_sync(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as outbox:
        assert outbox._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    other = sqlite3.connect(tmp_path / "o.db")
    assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other.close()


def test_default_capacity_holds_thirty_days_of_one_band() -> None:
    assert DEFAULT_CAPACITY_SAMPLES >= 30 * 86_400 + 30 * 1_440


def test_batches_carry_the_oldest_samples_in_order(tmp_path: Path) -> None:
    samples: list[Sample] = [*_hr(5), StepsSample(t_s=T0_S + 60, steps=42, interval_s=60)]
    with Outbox(tmp_path / "o.db") as outbox:
        assert outbox.append(samples).appended == 6
        batch = outbox.next_batch(max_samples=4, max_bytes=BIG)
        assert batch is not None
        assert batch.n_samples == 4
        batch_id, decoded = decode_batch(batch.body)
        assert batch_id == batch.batch_id
        assert decoded == samples[:4]


def test_ack_deletes_exactly_the_acknowledged_rows(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.append(_hr(10))
        batch = outbox.next_batch(max_samples=4, max_bytes=BIG)
        assert batch is not None
        outbox.append(_hr(3, start=10))  # arrives while the batch is in flight
        assert outbox.ack(batch) == 4
        assert outbox.status().depth_samples == 9
        rest = outbox.next_batch(max_samples=100, max_bytes=BIG)
        assert rest is not None
        assert _times(rest.body) == [s.t_s for s in _hr(9, start=4)]
        assert outbox.ack(batch) == 0  # acknowledging twice deletes nothing more


def test_unacknowledged_rows_and_batch_id_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    with Outbox(path) as outbox:
        outbox.append(_hr(10))
        first = outbox.next_batch(max_samples=6, max_bytes=BIG)
        assert first is not None
    with Outbox(path) as outbox:
        assert outbox.status().depth_samples == 10
        assert outbox.status().pending_batch_id == first.batch_id
        again = outbox.next_batch(max_samples=2, max_bytes=BIG)  # new limits do not reshape it
        assert again == first
        outbox.ack(again)
    with Outbox(path) as outbox:
        rest = outbox.next_batch(max_samples=100, max_bytes=BIG)
        assert rest is not None
        assert rest.batch_id != first.batch_id
        assert _times(rest.body) == [s.t_s for s in _hr(4, start=6)]


def test_samples_survive_a_crash_without_close(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from collector.outbox import Outbox\n"
        "from collector.wire import HeartRateSample\n"
        "o = Outbox(Path(sys.argv[1]))\n"
        "o.append([HeartRateSample(t_s=1.7e9 + i, bpm=70) for i in range(1000)])\n"
        "b = o.next_batch(max_samples=300, max_bytes=1 << 30)\n"
        "print(b.batch_id, flush=True)\n"
        "os._exit(0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    batch_id = done.stdout.strip()
    with Outbox(path) as outbox:
        assert outbox.status().depth_samples == 1000
        batch = outbox.next_batch(max_samples=10, max_bytes=BIG)
        assert batch is not None
        assert batch.batch_id == batch_id
        assert batch.n_samples == 300


def test_byte_limit_caps_a_batch_but_never_below_one_sample(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.append(_hr(50))
        batch = outbox.next_batch(max_samples=50, max_bytes=400)
        assert batch is not None
        assert 1 <= batch.n_samples < 50
        assert len(batch.body) <= 400
        outbox.ack(batch)
        single = outbox.next_batch(max_samples=50, max_bytes=65)
        assert single is not None
        assert single.n_samples == 1


def test_partial_batches_wait_for_size_or_age(tmp_path: Path) -> None:
    now = [T0_S + 30]
    with Outbox(tmp_path / "o.db", clock=lambda: now[0]) as outbox:
        outbox.append(_hr(5))
        assert (
            outbox.next_batch(max_samples=10, max_bytes=BIG, min_samples=10, max_age_s=60) is None
        )
        now[0] = T0_S + 61
        batch = outbox.next_batch(max_samples=10, max_bytes=BIG, min_samples=10, max_age_s=60)
        assert batch is not None
        assert batch.n_samples == 5


def test_capacity_drops_oldest_first_counts_and_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "o.db"
    with Outbox(path, capacity_samples=100) as outbox:
        outbox.append(_hr(80))
        with caplog.at_level(logging.WARNING, logger="collector.outbox"):
            result = outbox.append(_hr(50, start=80))
        assert (result.appended, result.dropped) == (50, 30)
        assert "dropped the 30 oldest samples" in caplog.text
        batch = outbox.next_batch(max_samples=1000, max_bytes=BIG)
        assert batch is not None
        assert _times(batch.body) == [s.t_s for s in _hr(100, start=30)]
    with Outbox(path, capacity_samples=100) as outbox:
        assert outbox.status().dropped_samples == 30


def test_capacity_drop_takes_a_formed_batch_whole(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", capacity_samples=10) as outbox:
        outbox.append(_hr(10))
        old = outbox.next_batch(max_samples=4, max_bytes=BIG)
        assert old is not None
        assert outbox.append(_hr(2, start=10)).dropped == 4
        assert outbox.status().pending_batch_id is None
        assert outbox.ack(old) == 0
        fresh = outbox.next_batch(max_samples=100, max_bytes=BIG)
        assert fresh is not None
        assert _times(fresh.body) == [s.t_s for s in _hr(8, start=4)]


def test_append_larger_than_capacity_keeps_the_newest(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", capacity_samples=10) as outbox:
        outbox.append(_hr(3))
        result = outbox.append(_hr(25, start=3))
        assert (result.appended, result.dropped) == (10, 18)
        batch = outbox.next_batch(max_samples=100, max_bytes=BIG)
        assert batch is not None
        assert _times(batch.body) == [s.t_s for s in _hr(10, start=18)]
        assert outbox.status().dropped_samples == 18


def test_quarantine_keeps_the_batch_and_the_reason(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.append(_hr(6))
        bad = outbox.next_batch(max_samples=4, max_bytes=BIG)
        assert bad is not None
        assert outbox.quarantine(bad, status_code=422, reason="samples.3.bpm: too high") == 4
        (kept,) = outbox.quarantined()
        assert (kept.batch_id, kept.status_code, kept.n_samples) == (bad.batch_id, 422, 4)
        assert kept.reason == "samples.3.bpm: too high"
        assert kept.body == bad.body
        status = outbox.status()
        assert (status.depth_samples, status.quarantined_batches, status.quarantined_samples) == (
            2,
            1,
            4,
        )
        following = outbox.next_batch(max_samples=100, max_bytes=BIG)
        assert following is not None
        assert following.n_samples == 2


def test_status_counts_acks_and_upload_time(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db", clock=lambda: 1_800_000_000.0) as outbox:
        assert outbox.status().last_upload_s is None
        outbox.append(_hr(3))
        assert outbox.status().oldest_t_s == pytest.approx(T0_S + 0.25)
        batch = outbox.next_batch(max_samples=10, max_bytes=BIG)
        assert batch is not None
        outbox.ack(batch)
        status = outbox.status()
        assert (status.acked_samples, status.depth_samples, status.oldest_t_s) == (3, 0, None)
        assert status.last_upload_s == 1_800_000_000.0


def test_one_writer_and_one_uploader_in_threads(tmp_path: Path) -> None:
    n_chunks, chunk = 40, 250
    with Outbox(tmp_path / "o.db") as outbox:
        writer_done = threading.Event()

        def write() -> None:
            for i in range(n_chunks):
                outbox.append(_hr(chunk, start=i * chunk))
            writer_done.set()

        sent: list[float] = []
        writer = threading.Thread(target=write)
        writer.start()
        while True:
            finished = writer_done.is_set()
            batch = outbox.next_batch(max_samples=300, max_bytes=BIG)
            if batch is None:
                if finished:
                    break
                continue
            sent.extend(_times(batch.body))
            outbox.ack(batch)
        writer.join()
        assert sent == [s.t_s for s in _hr(n_chunks * chunk)]
        assert outbox.status().depth_samples == 0


def test_rejects_bad_arguments_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="capacity_samples"):
        Outbox(tmp_path / "a.db", capacity_samples=0)
    with Outbox(tmp_path / "b.db") as outbox, pytest.raises(ValueError, match="t_s has 1"):
        outbox.append_encoded(t_s=[T0_S], bodies=[])
    not_sqlite = tmp_path / "c.db"
    not_sqlite.write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError):
        Outbox(not_sqlite)


def test_released_batch_is_formed_again_under_a_new_id(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.db") as outbox:
        outbox.append(_hr(8))
        big = outbox.next_batch(max_samples=8, max_bytes=BIG)
        assert big is not None
        assert outbox.release(big)
        assert not outbox.release(big)
        small = outbox.next_batch(max_samples=3, max_bytes=BIG)
        assert small is not None
        assert small.batch_id != big.batch_id
        assert _times(small.body) == [s.t_s for s in _hr(3)]
        assert outbox.status().depth_samples == 8
