"""The embedded server's list of the processes using it survives a process killed outright."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from service.db.embedded import forget_dead_users


def _ended_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_the_ids_of_ended_processes_are_dropped(tmp_path: Path) -> None:
    # A rehab killed with kill -9 left its id behind; this process is still using the server.
    listed = tmp_path / ".handle_pids.json"
    listed.write_text(json.dumps([_ended_pid(), os.getpid()]))
    forget_dead_users(tmp_path)
    assert json.loads(listed.read_text()) == [os.getpid()]
    # Nothing to drop: the file is left as it was.
    before = listed.stat().st_mtime_ns
    forget_dead_users(tmp_path)
    assert listed.stat().st_mtime_ns == before


def test_a_missing_or_unreadable_list_is_left_alone(tmp_path: Path) -> None:
    forget_dead_users(tmp_path)
    assert not (tmp_path / ".handle_pids.json").exists()
    listed = tmp_path / ".handle_pids.json"
    listed.write_text("not json")
    forget_dead_users(tmp_path)
    assert listed.read_text() == "not json"
