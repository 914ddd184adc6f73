"""A simulated history through outbox and HTTP: ``stream_history`` and ``rehab simulate``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import typer
from typer.testing import CliRunner

from collector.cli.simulate import app, simulate
from collector.errors import UploadError
from collector.outbox import Outbox
from collector.settings import CollectorSettings, default_collector_dir
from collector.simulator import StreamResult, simulate_history, stream_history
from collector.upload import UploadProgress
from collector.wire import parse_time
from tests.collector.conftest import DEVICE_TOKEN, FakeIngest

TODAY = date(2026, 5, 12)


def _rehab() -> typer.Typer:
    """A root command like ``rehab``, mounting the collector's ``simulate`` as it will."""
    root = typer.Typer()
    root.command(name="version")(lambda: None)
    root.add_typer(app)
    return root


async def _stream(ingest: FakeIngest, outbox_path: Path) -> StreamResult:
    progress: list[UploadProgress] = []
    result = await stream_history(
        server_url=ingest.url,
        device_token=DEVICE_TOKEN,
        outbox_path=outbox_path,
        days=2,
        stage_week=3.0,
        seed=21,
        tz="Europe/Berlin",
        hr_interval_s=10,
        progress=progress.append,
        today=TODAY,
        batch_max_samples=5_000,
    )
    assert progress[-1].samples_done == progress[-1].samples_total
    return result


async def test_history_reaches_the_server_and_leaves_the_outbox_empty(
    tmp_path: Path, ingest: FakeIngest
) -> None:
    result = await stream_history(
        server_url=ingest.url,
        device_token=DEVICE_TOKEN,
        outbox_path=tmp_path / "outbox.db",
        days=2,
        stage_week=3.0,
        seed=21,
        tz="Europe/Berlin",
        hr_interval_s=10,
        today=TODAY,
        batch_max_samples=5_000,
    )
    expected = simulate_history(
        days=2, stage_week=3.0, seed=21, tz="Europe/Berlin", today=TODAY, hr_interval_s=10
    )
    assert result.profile == expected.profile
    assert result.samples_appended == expected.n_samples
    assert result.upload.accepted == expected.n_samples
    assert result.upload.duplicates == 0
    assert len(ingest.stored) == expected.n_samples
    kinds = {kind for kind, _ in ingest.stored}
    assert {"heart_rate", "steps"} <= kinds
    with Outbox(tmp_path / "outbox.db") as outbox:
        assert outbox.status().depth_samples == 0


async def test_streaming_the_same_history_again_is_all_duplicates(
    tmp_path: Path, ingest: FakeIngest
) -> None:
    first = await _stream(ingest, tmp_path / "a.db")
    again = await _stream(ingest, tmp_path / "b.db")
    assert again.upload.accepted == 0
    assert again.upload.duplicates == first.upload.accepted


async def test_unauthorized_hub_keeps_its_history(tmp_path: Path, ingest: FakeIngest) -> None:
    ingest.answer_next(401)
    with pytest.raises(UploadError, match="pair the hub again"):
        await _stream(ingest, tmp_path / "outbox.db")
    with Outbox(tmp_path / "outbox.db") as outbox:
        assert outbox.status().depth_samples > 0


def test_simulate_command_uploads_and_reports(tmp_path: Path, ingest: FakeIngest) -> None:
    args = ["--patient-token", DEVICE_TOKEN, "--days", "1", "--stage-week", "2"]
    args += ["--server", ingest.url, "--state-dir", str(tmp_path), "--hr-interval-s", "30"]
    args += ["--tz", "Pacific/Auckland", "--seed", "4"]
    result = CliRunner().invoke(_rehab(), ["simulate", *args])
    assert result.exit_code == 0, result.output
    assert " accepted, 0 duplicates" in result.output
    assert (tmp_path / "outbox.sqlite3").exists()
    assert len(ingest.stored) > 1_000


def test_simulate_command_explains_a_revoked_token(tmp_path: Path, ingest: FakeIngest) -> None:
    ingest.answer_next(401)
    args = ["--patient-token", "revoked", "--days", "1", "--server", ingest.url]
    args += ["--state-dir", str(tmp_path), "--hr-interval-s", "60"]
    result = CliRunner().invoke(_rehab(), ["simulate", *args])
    assert result.exit_code == 1
    assert "pair the hub again" in " ".join(result.output.split())
    assert ingest.received[0].authorization == "Bearer revoked"


def test_simulate_command_rejects_an_unknown_time_zone(tmp_path: Path) -> None:
    args = ["--patient-token", "t", "--tz", "Nowhere/Town", "--state-dir", str(tmp_path)]
    result = CliRunner().invoke(_rehab(), ["simulate", *args])
    assert result.exit_code == 2
    assert "IANA" in " ".join(result.output.split())


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REHAB_COLLECTOR_DIR", str(tmp_path))
    monkeypatch.setenv("REHAB_SERVER_URL", "https://rehab.example.org")
    monkeypatch.setenv("REHAB_BATCH_MAX_SAMPLES", "2000")
    settings = CollectorSettings()
    assert settings.outbox_path == tmp_path / "outbox.sqlite3"
    assert settings.server_url == "https://rehab.example.org"
    assert settings.batch_max_samples == 2_000
    monkeypatch.setenv("REHAB_BATCH_MAX_SAMPLES", "60000")  # over the service's 50,000
    with pytest.raises(ValueError, match="batch_max_samples"):
        CollectorSettings()
    monkeypatch.delenv("REHAB_BATCH_MAX_SAMPLES")
    monkeypatch.setenv("REHAB_SERVER_URL", "rehab.example.org")
    with pytest.raises(ValueError, match="http"):
        CollectorSettings()


def test_default_collector_dir_is_per_user_or_system_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("collector.settings.os.geteuid", lambda: 0)
    assert default_collector_dir() == Path("/var/lib/rehab-collector")
    monkeypatch.setattr("collector.settings.os.geteuid", lambda: 1000)
    per_user = default_collector_dir()
    assert per_user.name == "rehab-collector"
    assert per_user != Path("/var/lib/rehab-collector")


def test_simulate_is_a_plain_function_too(tmp_path: Path, ingest: FakeIngest) -> None:
    root = typer.Typer()
    root.command(name="version")(lambda: None)
    root.command(name="simulate")(simulate)
    args = ["simulate", "--patient-token", DEVICE_TOKEN, "--days", "1", "--server", ingest.url]
    args += ["--state-dir", str(tmp_path), "--hr-interval-s", "60"]
    result = CliRunner().invoke(root, args)
    assert result.exit_code == 0, result.output


async def test_until_cuts_the_last_day_at_a_time(tmp_path: Path, ingest: FakeIngest) -> None:
    noon_s = datetime(2026, 5, 12, 12, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    result = await stream_history(
        server_url=ingest.url,
        device_token=DEVICE_TOKEN,
        outbox_path=tmp_path / "outbox.db",
        days=1,
        stage_week=3.0,
        seed=21,
        tz="Europe/Berlin",
        hr_interval_s=10,
        today=date(2026, 5, 13),
        until_s=noon_s,
    )
    whole_day = simulate_history(
        days=1,
        stage_week=3.0,
        seed=21,
        tz="Europe/Berlin",
        today=date(2026, 5, 13),
        hr_interval_s=10,
    )
    assert 0 < result.samples_appended < whole_day.n_samples
    assert result.upload.accepted == result.samples_appended
    assert max(parse_time(t) for _, t in ingest.stored) <= noon_s
