"""A private ``dbus-daemon`` for the fake BlueZ: its own socket, its own policy, no system bus."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

__all__ = ["DBUS_DAEMON", "private_dbus_daemon"]

DBUS_DAEMON = shutil.which("dbus-daemon")

# A bus that lets any local user own any name (org.bluez included) and talk to anyone: it only
# ever carries the fake BlueZ and the collector under test.
_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_type="method_return"/>
    <allow send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="signal"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
  </policy>
</busconfig>
"""


@contextlib.contextmanager
def private_dbus_daemon(directory: Path) -> Iterator[str]:
    """Run ``dbus-daemon`` on a socket in ``directory``; yield its address; stop it afterwards."""
    if DBUS_DAEMON is None:
        raise RuntimeError("dbus-daemon is not installed (Debian package: dbus-daemon)")
    socket = directory / "system_bus_socket"
    config = directory / "bus.conf"
    config.write_text(_CONFIG.format(socket=socket), encoding="utf-8")
    process = subprocess.Popen(
        [DBUS_DAEMON, f"--config-file={config}", "--nofork", "--nopidfile", "--print-address=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("DBUS_")},
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().strip()
        if not address:
            _, err = process.communicate(timeout=5)
            raise RuntimeError(f"dbus-daemon did not start: {err.strip()}")
        yield address
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
