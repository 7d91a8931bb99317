"""The one error type audiospec raises for bad input."""

from __future__ import annotations

__all__ = ["AudiospecError"]


class AudiospecError(ValueError):
    """Bad input to a public audiospec entry point.

    The message always states the value that was received, the constraint it
    broke and, where there is one, the command or setting that fixes it.
    """
