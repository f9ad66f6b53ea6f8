"""Store errors, worded for the person running the command."""

from __future__ import annotations


class StoreError(RuntimeError):
    pass


class StoreConfigError(StoreError, ValueError):
    """The store named in settings cannot be used as given (bad location, wrong credentials)."""


class StoreUnavailableError(StoreError):
    """The store did not answer, or stopped answering."""
