"""``rehab collect pair --huami-key``: the band's key is validated and kept with the pairing (0600)."""

from __future__ import annotations

import stat
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from collector.cli.collect import app
from collector.errors import PairingError
from collector.hub import PAIRING_FILE, PairedDevice, Pairing, load_pairing, save_pairing

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
