"""``rehab collect pair --huami-key`` and ``--huami-new-key``: band keys kept with the pairing (0600)."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from collector.cli.collect import app
from collector.errors import PairingError
from collector.hub import (
    PAIRING_FILE,
    PairedDevice,
    Pairing,
    load_pairing,
    record_huami_key_written,
    save_pairing,
)

KEY_HEX = "30313233343536373839404142434445"
BAND = "C0:FF:EE:00:00:04"
STRAP = "C0:FF:EE:00:00:01"


def pair(state_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "--state-dir",
            str(state_dir),
            "pair",
            "--server",
            "http://127.0.0.1:8000",
            "--token",
            "device-token",
            *args,
        ],
        env={"COLUMNS": "200"},
    )
    return result.exit_code, result.output


def test_the_key_is_stored_per_device_in_the_private_pairing_file(tmp_path: Path) -> None:
    code, output = pair(
        tmp_path,
        "--device",
        f"{BAND.lower()}=Mi Band",
        "--device",
        f"{STRAP}=Strap",
        "--huami-key",
        f"{BAND.lower()}=0x{KEY_HEX.upper()}",
    )
    assert code == 0, output
    assert "Mi Band auth key stored for 1 device(s)" in output
    assert KEY_HEX not in output.lower()
    path = tmp_path / PAIRING_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    by_address = {d.address: d for d in load_pairing(tmp_path).devices}
    assert by_address[BAND].huami_key == bytes.fromhex(KEY_HEX)
    assert by_address[STRAP].huami_key is None
    stored = orjson.loads(path.read_bytes())["devices"]
    assert stored == [
        {"address": BAND, "name": "Mi Band", "huami_key": KEY_HEX},
        {"address": STRAP, "name": "Strap"},
    ]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (f"{BAND}=0123", "auth key must be 16 bytes (32 hex digits), got 2"),
        (f"{BAND}=not-hex-at-all", "auth key must be 32 hexadecimal digits"),
        (f"{STRAP}={KEY_HEX}", "not among the --device addresses"),
        (KEY_HEX, "is not a Bluetooth address"),
    ],
)
def test_a_bad_key_option_is_refused_before_anything_is_written(
    tmp_path: Path, option: str, message: str
) -> None:
    code, output = pair(tmp_path, "--device", BAND, "--huami-key", option)
    assert code == 2
    assert message in " ".join(output.split())
    assert not (tmp_path / PAIRING_FILE).exists()


def test_the_key_never_reaches_a_repr_and_a_damaged_key_is_reported(tmp_path: Path) -> None:
    device = PairedDevice(address=BAND, name="Mi Band", huami_key=bytes.fromhex(KEY_HEX))
    assert KEY_HEX not in repr(device)
    pairing = Pairing(
        server_url="http://x", token="t", device_id=None, devices=(device,), paired_at_s=0.0
    )
    save_pairing(tmp_path, pairing)
    assert load_pairing(tmp_path) == pairing
    path = tmp_path / PAIRING_FILE
    damaged = orjson.loads(path.read_bytes())
    damaged["devices"][0]["huami_key"] = "abc"
    path.write_bytes(orjson.dumps(damaged))
    with pytest.raises(PairingError, match="damaged"):
        load_pairing(tmp_path)


def test_a_pairing_file_from_before_huami_keys_still_loads(tmp_path: Path) -> None:
    path = tmp_path / PAIRING_FILE
    tmp_path.chmod(0o700)
    path.write_bytes(
        orjson.dumps(
            {
                "version": 1,
                "server_url": "http://x",
                "token": "t",
                "device_id": None,
                "devices": [{"address": STRAP.lower(), "name": "Strap"}],
                "paired_at_s": 1.0,
            }
        )
    )
    path.chmod(0o600)
    [device] = load_pairing(tmp_path).devices
    assert device == PairedDevice(address=STRAP, name="Strap")


def test_a_new_key_is_generated_stored_and_marked_not_yet_on_the_band(tmp_path: Path) -> None:
    code, output = pair(
        tmp_path,
        "--device",
        f"{BAND}=Mi Band",
        "--device",
        f"{STRAP}=Strap",
        "--huami-new-key",
        BAND.lower(),
        "--huami-new-key",
        BAND,
    )
    assert code == 0, output
    text = " ".join(output.split())
    assert "New Mi Band auth key generated for 1 device(s)" in text
    assert "tap it when it vibrates" in text
    by_address = {d.address: d for d in load_pairing(tmp_path).devices}
    key = by_address[BAND].huami_key
    assert key is not None
    assert len(key) == 16
    assert key.hex() not in output
    assert not by_address[BAND].huami_key_written
    assert by_address[STRAP].huami_key is None
    stored = orjson.loads((tmp_path / PAIRING_FILE).read_bytes())["devices"]
    assert stored[0] == {
        "address": BAND,
        "name": "Mi Band",
        "huami_key": key.hex(),
        "huami_key_written": False,
    }
    # Every pairing draws its own key.
    assert pair(tmp_path, "--device", BAND, "--huami-new-key", BAND)[0] == 0
    assert load_pairing(tmp_path).devices[0].huami_key != key


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--huami-key", f"{BAND}={KEY_HEX}", "--huami-new-key", BAND.lower()],
            f"{BAND} has both --huami-key and --huami-new-key",
        ),
        (["--huami-new-key", STRAP], f"--huami-new-key for {STRAP}, which is not among"),
        (["--huami-new-key", "band"], "'band' is not a Bluetooth address"),
    ],
)
def test_a_bad_new_key_option_is_refused_before_anything_is_written(
    tmp_path: Path, options: list[str], message: str
) -> None:
    code, output = pair(tmp_path, "--device", BAND, *options)
    assert code == 2
    assert message in " ".join(output.split())
    assert not (tmp_path / PAIRING_FILE).exists()


def test_the_written_key_is_recorded_only_for_the_pairing_it_was_made_for(
    tmp_path: Path,
) -> None:
    key = bytes.fromhex(KEY_HEX)
    pending = PairedDevice(address=BAND, name="Mi Band", huami_key=key, huami_key_written=False)
    strap = PairedDevice(address=STRAP, name="Strap")
    pairing = Pairing(
        server_url="http://x", token="t", device_id=None, devices=(pending, strap), paired_at_s=0.0
    )
    save_pairing(tmp_path, pairing)
    # Another key (the hub was paired again meanwhile) is left alone.
    assert not record_huami_key_written(tmp_path, address=BAND, key=bytes(16))
    assert load_pairing(tmp_path) == pairing
    assert record_huami_key_written(tmp_path, address=BAND.lower(), key=key)
    band, other = load_pairing(tmp_path).devices
    assert band == PairedDevice(address=BAND, name="Mi Band", huami_key=key)
    assert other == strap
    assert (
        "huami_key_written"
        not in orjson.loads((tmp_path / PAIRING_FILE).read_bytes())["devices"][0]
    )
    assert stat.S_IMODE((tmp_path / PAIRING_FILE).stat().st_mode) == 0o600
    assert not record_huami_key_written(tmp_path, address=BAND, key=key)  # already recorded


def test_a_damaged_written_flag_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a huami_key"):
        PairedDevice(address=STRAP, name="Strap", huami_key_written=False)
    device = PairedDevice(
        address=BAND, name="Mi Band", huami_key=bytes.fromhex(KEY_HEX), huami_key_written=False
    )
    pairing = Pairing(
        server_url="http://x", token="t", device_id=None, devices=(device,), paired_at_s=0.0
    )
    save_pairing(tmp_path, pairing)
    assert load_pairing(tmp_path) == pairing
    path = tmp_path / PAIRING_FILE
    damaged = orjson.loads(path.read_bytes())
    damaged["devices"][0]["huami_key_written"] = "no"
    path.write_bytes(orjson.dumps(damaged))
    with pytest.raises(PairingError, match="huami_key_written must be true or false"):
        load_pairing(tmp_path)
