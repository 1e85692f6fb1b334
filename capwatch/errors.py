"""Exceptions that carry a message fit to show a user (no traceback needed)."""


class CapwatchError(Exception):
    """Base class: the message is plain English and safe to show to a user."""


class DatabaseMissing(CapwatchError):
    """The database file does not exist yet."""


class NotADatabase(CapwatchError):
    """The database path names something that is not a DuckDB database file."""


class SchemaTooOld(CapwatchError):
    """The database was written by an older capwatch and must be migrated by a writer."""


class DatabaseBusy(CapwatchError):
    """Another process holds the write lock."""


class QueryRefused(CapwatchError):
    """User SQL that the sandbox will not run."""


class QueryInterrupted(CapwatchError):
    """User SQL stopped because it ran past its time limit."""


class UnloadRefused(CapwatchError):
    """A retraction that is not possible (unknown load, already retracted, or one that would
    leave rows pointing at nothing)."""
