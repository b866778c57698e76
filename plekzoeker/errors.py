"""Every error a user can act on: the CLI turns each into one clear line (no traceback unless --debug).

All error classes of the product live here, so a reader finds the whole failure contract in one
place (docs/CONTRACTS.md): each subclass of :class:`PlekzoekerError` carries a message that names
the file, service or setting and the problem; ``plekzoeker.cli.main`` prints ``error: <message>``
and exits 2. Anything else is a bug, printed as one line with its type (exit 1).
"""
from __future__ import annotations

from pathlib import Path


class PlekzoekerError(Exception):
    """Base class for errors a user can act on."""


class SourceError(PlekzoekerError):
    """A source file is missing, broken, of the wrong kind or in an undeclared CRS."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ConfigError(PlekzoekerError):
    """The configuration (YAML or environment) is invalid."""


class DatabaseError(PlekzoekerError):
    """The database cannot be reached, started or used."""


class PrefectServerError(PlekzoekerError):
    """Prefect's local API server (ephemeral mode) cannot be prepared or started."""


class FetchError(PlekzoekerError):
    """A download service cannot be reached, answers with an error, or sends something unusable.

    The message is one line naming the service (host or dataset) and the problem, e.g.
    ``cannot reach api.pdok.nl: connection refused`` or
    ``BGT download for GM0228 failed: status 'FAILED' after 3 tries``. Nothing in the cache is
    replaced by a failed fetch.
    """


class PublishError(PlekzoekerError):
    """The output directory cannot be written (full disk, no permission, not a directory)."""


class OutreachError(PlekzoekerError):
    """An outreach file cannot be read (missing, wrong type, no candidate_key/outreach_status column)."""
