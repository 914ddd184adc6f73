"""Make the checkout importable ahead of the editable-install finder.

The editable install's path hook can resolve ``analysis`` as a namespace package (skipping its
``__init__``) when the repository root is not on ``sys.path``; these tests import the package
from the checkout they live in.
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO_ROOT = str(Path(__file__).resolve().parents[2])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)
