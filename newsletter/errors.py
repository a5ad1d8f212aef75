"""The errors the tool reports to its user.

Each message says what went wrong and what to do; the CLI prints it as one
``Error: ...`` line and exits with ``exit_code`` so scripts can react.
"""

from __future__ import annotations

EXIT_ERROR = 1
EXIT_NO_MAILING = 3  # weekend/holiday: arXiv published nothing that day
EXIT_NOTHING_TO_PUBLISH = 4  # a mailing, but no paper reached the threshold


class NewsletterError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    exit_code = EXIT_ERROR


class ConfigError(NewsletterError):
    """The configuration file is missing, unreadable or has a wrong key/type."""


class SourceError(NewsletterError):
    """A remote service failed in a way that retrying did not fix."""


class AuthError(SourceError):
    """A remote service rejected our credentials."""


class MalformedResponse(SourceError):
    """A remote service answered with a body we cannot parse."""


class ArchiveError(NewsletterError):
    """The archive lacks what a step needs (e.g. build before fetch)."""


class NoMailing(NewsletterError):
    """The date is not an arXiv announcement day."""

    exit_code = EXIT_NO_MAILING


class NothingToPublish(NewsletterError):
    """A mailing exists but no paper scored enough to make an issue."""

    exit_code = EXIT_NOTHING_TO_PUBLISH
