"""The package's own errors: one line each, naming what is wrong and what to do."""

from __future__ import annotations

__all__ = ["CoordattError", "MissingBackend", "ExportError", "require"]


class CoordattError(Exception):
    """Base of coordatt's errors that a CLI reports as one line with exit code 2."""


class MissingBackend(CoordattError, ImportError):
    """An optional backend is not installed; the message says how to install it."""


class ExportError(CoordattError):
    """An export or its verification could not be done."""


def require(module: str, extra: str):
    """Import an optional backend, or raise MissingBackend with the install command."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise MissingBackend(
            f"{module} is not installed; run: pip install \"coordatt[{extra}]\""
        ) from e
