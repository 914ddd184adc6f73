"""The hub's binding to a patient: server, device token and chosen BLE devices, stored 0600."""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import orjson

from collector.errors import PairingError
from collector.link import normalise_address
from collector.profiles.huami import parse_auth_key

__all__ = [
    "PAIRING_FILE",
    "PairedDevice",
    "Pairing",
    "enroll",
    "ensure_private_dir",
    "load_pairing",
    "record_huami_key_written",
    "save_pairing",
]

PAIRING_FILE = "pairing.json"
_DIR_MODE = 0o700  # owner only: the directory holds a bearer token
_FILE_MODE = 0o600  # owner read/write only
_FORMAT_VERSION = 1  # bump when the file's shape changes
_HTTP_OK = 200  # RFC 9110 §15.3.1
_HTTP_CREATED = 201  # RFC 9110 §15.3.2


@dataclass(frozen=True, slots=True)
class PairedDevice:
    """One BLE device bound to the hub.

    Parameters
    ----------
    address
        Bluetooth address, upper case with colons.
    name
        Display name for logs and status.
    huami_key
        The 16-byte AES key of a Huami Mi Band 2/3, or ``None`` for other devices. Kept out
        of ``repr`` so it never reaches a log.
    huami_key_written
        Whether the band holds ``huami_key``. ``False`` for a key the hub generated
        (``--huami-new-key``) until the wearer confirmed it on the band; stored only then.
    """

    address: str
    name: str
    huami_key: bytes | None = field(default=None, repr=False)
    huami_key_written: bool = True

    def __post_init__(self) -> None:
        if self.huami_key is None and not self.huami_key_written:
            raise ValueError("huami_key_written=False needs a huami_key")

    def to_dict(self) -> dict[str, str | bool]:
        """The JSON object stored in the pairing file."""
        out: dict[str, str | bool] = {"address": self.address, "name": self.name}
        if self.huami_key is not None:
            out["huami_key"] = self.huami_key.hex()
        if not self.huami_key_written:
            out["huami_key_written"] = False
        return out

    @classmethod
    def from_dict(cls, obj: dict[str, Any]) -> PairedDevice:
        """Parse :meth:`to_dict` output; ``ValueError``/``KeyError`` when it is not one."""
        key = obj.get("huami_key")
        written = obj.get("huami_key_written", True)
        if not isinstance(written, bool):
            raise ValueError(f"huami_key_written must be true or false, got {written!r}")
        return cls(
            address=normalise_address(str(obj["address"])),
            name=str(obj["name"]),
            huami_key=None if key is None else parse_auth_key(str(key)),
            huami_key_written=written,
        )


@dataclass(frozen=True, slots=True)
class Pairing:
    """Everything ``rehab collect run`` needs to know about the patient's hub.

    Parameters
    ----------
    server_url
        Base URL of the service.
    token
        Bearer token for ``POST /v1/ingest``.
    device_id
        The service's id for this hub, when enrollment returned one.
    devices
        The paired BLE devices (with the Huami band keys, hence the file's mode 0600).
    paired_at_s
        Wall-clock epoch seconds of pairing.
    """

    server_url: str
    token: str
    device_id: str | None
    devices: tuple[PairedDevice, ...]
    paired_at_s: float

    def to_json(self) -> bytes:
        """Serialise for :func:`save_pairing`."""
        return orjson.dumps(
            {
                "version": _FORMAT_VERSION,
                "server_url": self.server_url,
                "token": self.token,
                "device_id": self.device_id,
                "devices": [d.to_dict() for d in self.devices],
                "paired_at_s": self.paired_at_s,
            },
            option=orjson.OPT_INDENT_2,
        )

    @classmethod
    def from_json(cls, data: bytes) -> Pairing:
        """Parse :meth:`to_json` output; :class:`PairingError` when it is not one."""
        try:
            obj: dict[str, Any] = orjson.loads(data)
            if obj.get("version") != _FORMAT_VERSION:
                raise PairingError(f"unsupported pairing file version {obj.get('version')!r}")
            return cls(
                server_url=str(obj["server_url"]),
                token=str(obj["token"]),
                device_id=None if obj.get("device_id") is None else str(obj["device_id"]),
                devices=tuple(PairedDevice.from_dict(d) for d in obj["devices"]),
                paired_at_s=float(obj["paired_at_s"]),
            )
        except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError) as exc:
            raise PairingError(f"the pairing file is damaged: {exc}") from exc


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` (and parents) and make it owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, _DIR_MODE)


def save_pairing(state_dir: Path, pairing: Pairing) -> Path:
    """Write the pairing atomically with mode 0600 inside a 0700 state directory."""
    ensure_private_dir(state_dir)
    target = state_dir / PAIRING_FILE
    temporary = state_dir / f".{PAIRING_FILE}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, _FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pairing.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _FILE_MODE)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise
    return target


def load_pairing(state_dir: Path) -> Pairing:
    """Read the pairing; :class:`PairingError` when missing, damaged or readable by others."""
    path = state_dir / PAIRING_FILE
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        data = path.read_bytes()
    except FileNotFoundError:
        raise PairingError(
            f"this hub is not paired (no {path}); run `rehab collect pair` first", path=str(path)
        ) from None
    if mode & 0o077:
        raise PairingError(
            f"{path} is readable by other users (mode {mode:o}); run `chmod 600 {path}`",
            path=str(path),
        )
    return Pairing.from_json(data)


def record_huami_key_written(state_dir: Path, *, address: str, key: bytes) -> bool:
    """Mark ``key`` as held by the band at ``address`` in the stored pairing.

    The file is read afresh, so a pairing changed since the collector started is not undone:
    nothing is written unless the device is still paired with this very key, not yet written.
    Returns whether the pairing file changed.

    Raises
    ------
    PairingError
        The pairing is missing or damaged.
    OSError
        The file could not be written.
    """
    pairing = load_pairing(state_dir)
    target = normalise_address(address)
    if not any(
        d.address == target and d.huami_key == key and not d.huami_key_written
        for d in pairing.devices
    ):
        return False
    devices = tuple(
        replace(d, huami_key_written=True) if d.address == target else d for d in pairing.devices
    )
    save_pairing(state_dir, replace(pairing, devices=devices))
    return True


def _hub_name() -> str:
    return f"rehab-hub@{socket.gethostname()}"


async def enroll(
    *, server_url: str, code: str, client: httpx.AsyncClient, name: str | None = None
) -> tuple[str, str]:
    """Exchange an enrollment code for ``(device_id, token)`` at ``POST /v1/devices/enroll``.

    Raises
    ------
    PairingError
        The service refused the code, answered something else than the documented body, or
        could not be reached.
    """
    url = server_url.rstrip("/") + "/v1/devices/enroll"
    try:
        response = await client.post(url, json={"code": code, "name": name or _hub_name()})
    except httpx.HTTPError as exc:
        raise PairingError(f"could not reach {url}: {exc}", url=url) from exc
    if response.status_code not in (_HTTP_OK, _HTTP_CREATED):
        raise PairingError(
            f"the service refused the enrollment code ({response.status_code}): "
            f"{response.text[:200]}",
            status=response.status_code,
        )
    try:
        body = response.json()
        return str(body["device_id"]), str(body["token"])
    except (ValueError, KeyError, TypeError) as exc:
        raise PairingError(f"unexpected enrollment answer: {response.text[:200]}") from exc


def now_s() -> float:
    """Wall-clock epoch seconds (one place to read the clock for pairing records)."""
    return time.time()
