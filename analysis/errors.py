"""The analysis package's exception tree: one base, structured fields."""

from __future__ import annotations

from typing import Any

__all__ = ["AnalysisError", "InputError", "PlanError"]


class AnalysisError(Exception):
    """Base of every error the analysis package raises on purpose.

    Parameters
    ----------
    message
        Plain-language description of the problem.
    **fields
        Structured context (for example ``field="hr_bpm"``), kept in :attr:`fields`.
    """

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields


class InputError(AnalysisError, ValueError):
    """An input array or argument is invalid; ``fields["field"]`` names the offending argument."""


class PlanError(AnalysisError, ValueError):
    """A progression plan, override or threshold file is malformed or inconsistent."""
