"""`rehab demo --no-serve` as a user runs it: a subprocess, a clean data directory, no configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from service.demo import DEMO_PATIENTS


@pytest.mark.e2e
def test_demo_no_serve_from_a_clean_data_dir() -> None:
    rehab = Path(sys.executable).parent / "rehab"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REHAB_")}
    # Run as root, the embedded server makes every ancestor of its data dir traversable: not /root.
    with tempfile.TemporaryDirectory(prefix="rehab-demo-", dir="/var/tmp") as data_dir:
        env["REHAB_DATA_DIR"] = data_dir
        env["COLUMNS"] = "200"
        result = subprocess.run(
            [str(rehab), "demo", "--no-serve"],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        out = result.stdout
        assert "Last 7 days" in out
        for patient in DEMO_PATIENTS:
            assert patient.name in out
        # The trajectories: measured baselines, and the slow recoverer behind the band.
        assert "Recovery against the expected band" in out
        assert "RECOVERY_BEHIND" in out
        assert "clinician login: clinician@demo.example" in out
        assert "patient login:   patient@demo.example" in out
        assert (Path(data_dir) / "pgdata" / "PG_VERSION").exists()
