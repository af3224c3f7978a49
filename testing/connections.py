"""Keeping the test's database connection open when code outside Django's test Client ends a
request."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db.backends.base.base import BaseDatabaseWrapper


@contextmanager
def test_connection_kept() -> Iterator[None]:
    """At a request's start and end Django calls close_old_connections(), which closes a
    connection it finds obsolete; on PostgreSQL one inside the test's transaction is obsolete,
    since its autocommit differs from the setting. Django's test Client disconnects that
    receiver around its own calls. Code that runs the WSGI application directly (schemathesis)
    or closes a streaming response itself (a client that went away) has no such guard, and
    Django's closing wrapper reconnects the receiver half-way through response.close(): so keep
    the connection by making the check a no-op for the block instead."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseDatabaseWrapper, "close_if_unusable_or_obsolete", lambda self: None)
        yield
