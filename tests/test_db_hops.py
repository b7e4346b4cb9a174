"""The socket hops' worker threads give their database connections back when told to.

Channels' test communicators make the close after each hop a no-op, so under test a worker thread
keeps its connection; on PostgreSQL that connection kept the test database from being dropped.
"""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connections

from accounts.models import User
from exampulse.platform import db as hops

pytestmark = pytest.mark.django_db(transaction=True)


async def test_close_hop_threads_closes_what_the_workers_hold_and_a_later_hop_still_works():
    def query() -> tuple[object, str]:
        User.objects.exists()
        return connections["default"], threading.current_thread().name

    # What channels.testing's communicators do while they run the application.
    with mock.patch("channels.db.close_old_connections", return_value=None):
        wrapper, thread_name = await hops.db_hop(query)()
    assert thread_name.startswith("exampulse-db")
    assert wrapper.connection is not None, "the no-op close leaves the worker's connection open"

    hops.close_hop_threads()  # blocks briefly: the workers need no event loop to close
    if wrapper.vendor != "sqlite":  # Django never closes SQLite's in-memory test database
        assert wrapper.connection is None
    assert hops._executor is None

    # The next hop starts a fresh executor.
    _wrapper, thread_name = await hops.db_hop(query)()
    assert thread_name.startswith("exampulse-db")
