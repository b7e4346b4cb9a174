"""Shared fixtures: users by role, JWT-authenticated API clients, and service requirements."""

from __future__ import annotations

import os
import uuid

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.services import tokens_issue
from exampulse.platform.db import close_hop_threads
from tests.factories import ProctorFactory, StudentFactory
from tests.support.live import SeedCache

REQUIRE_SERVICES = os.environ.get("EXAMPULSE_REQUIRE_SERVICES") == "1"
# What the product hashes passwords with; tests that check the hasher itself ask for it back.
PRODUCTION_PASSWORD_HASHERS = list(django_settings.PASSWORD_HASHERS)
# The pytest-xdist worker this process is ("gw0", "gw1", ...), or "main" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_configure(config):
    """Per test process, before any cache, channel layer or password hash exists.

    Redis: parallel workers (and other test runs on the same Redis) must not see each other's
    groups or cache keys. Pub/sub channels are global to a Redis server, and the workers' test
    databases hand out the same ids (exam 1, session 1, ...), so without a prefix of its own a
    worker's proctor socket would receive another worker's `exam.1.proctors` pushes. Servers the
    tests start inherit the prefix through the environment (harness.servers.child_env).

    Passwords: Argon2 costs ~0.2 s of CPU per hash or check on this hardware (time_cost 2, 100 MiB),
    and the factories hash one per user. Tests use MD5 unless they test the hasher
    (`production_hashers`); servers the tests start (subprocesses) keep Argon2.
    """
    prefix = f"test-{WORKER}-{uuid.uuid4().hex[:8]}:"
    os.environ["REDIS_KEY_PREFIX"] = prefix
    django_settings.REDIS_KEY_PREFIX = prefix
    if django_settings.REDIS_URL:
        django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"{prefix}asgi"
        django_settings.CACHES["default"]["KEY_PREFIX"] = prefix
    django_settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PRODUCTION_PASSWORD_HASHERS]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def production_hashers(settings):
    """The product's password hashers (Argon2 first), for tests of what gets stored."""
    settings.PASSWORD_HASHERS = PRODUCTION_PASSWORD_HASHERS


@pytest.fixture(scope="session", autouse=True)
def _close_connection_pools(django_db_setup, django_db_blocker):
    """Close every connection before the test database is dropped: PostgreSQL refuses to drop a
    database someone is connected to ("database ... is being accessed by other users").

    First the socket hops' worker threads (exampulse.platform.db): Channels' test communicators turn the
    close after each hop into a no-op, so each thread still holds a connection checked out of the
    pool, and closing the pool does not close those. Then the pools themselves.
    """
    yield
    with django_db_blocker.unblock():
        close_hop_threads()
        for connection_ in connections.all():
            if getattr(connection_, "pool", None) is not None:
                connection_.close_pool()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Slow tests (and browser tests, marked in tests/browser/conftest.py) first: pytest-xdist hands
    tests out in this order, so a long test collected last would keep one worker busy alone at the end.

    Transactional tests stay after all the others, as pytest-django ordered them: they end with a
    flush, which also deletes what data migrations created (the proctors' group and permissions).
    The sort is stable, so a module's tests stay together (module-scoped servers start once).
    """
    items.sort(key=lambda item: (_flushes_database(item), not _is_slow(item)))


def _is_slow(item: pytest.Item) -> bool:
    return item.get_closest_marker("slow") is not None or item.get_closest_marker("browser") is not None


def _flushes_database(item: pytest.Item) -> bool:
    """pytest-django's test for a transactional test (django_db(transaction=True) and the like)."""
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction = marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
        reset_sequences = marker.kwargs.get("reset_sequences", marker.args[1] if len(marker.args) > 1 else False)
        if transaction or reset_sequences:
            return True
    fixtures = set(getattr(item, "fixturenames", ()))
    return bool({"transactional_db", "django_db_reset_sequences", "live_server"} & fixtures)


@pytest.fixture(scope="session")
def seed_cache(tmp_path_factory) -> SeedCache:
    """Seeded databases for live servers (tests.support.live.SeedCache), built once per run.

    Under xdist each worker's basetemp is <run's basetemp>/popen-gwN, so the parent is shared by
    the run's workers and by no other run.
    """
    basetemp = tmp_path_factory.getbasetemp()
    return SeedCache((basetemp.parent if WORKER != "main" else basetemp) / "seeds")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; no test should inherit another's.

    Login lockouts (axes) live in the database instead, so each test's rollback (or flush, for
    transactional tests) resets them along with the users they locked.
    """
    from monitoring.ingest.snapshots import store as session_snapshots

    # Session snapshots too: a test's rows (and their ids) are gone after it.
    _clear_cache()
    session_snapshots.clear()
    yield
    _clear_cache()
    session_snapshots.clear()


def _clear_cache() -> None:
    """This process's cache keys only: on Redis, `cache.clear()` is FLUSHDB, which would also wipe
    the keys of the other xdist workers (and of other runs sharing the database number)."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def student(db):
    return StudentFactory()


@pytest.fixture
def other_student(db):
    return StudentFactory()


@pytest.fixture
def proctor(db):
    return ProctorFactory()


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def api_client():
    """`api_client(user)` returns an APIClient carrying that user's access JWT (None: anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens_issue(user=user)['token']}")
        return client

    return make


@pytest.fixture
def requires_postgres(db):
    """Skip on SQLite in the default run; fail when CI said PostgreSQL must be there."""
    if connection.vendor != "postgresql":
        if REQUIRE_SERVICES:
            pytest.fail("EXAMPULSE_REQUIRE_SERVICES=1 but the database is not PostgreSQL (check DATABASE_URL)")
        pytest.skip("needs PostgreSQL: set DATABASE_URL")


@pytest.fixture
def requires_redis(settings):
    """Skip without REDIS_URL in the default run; fail when CI said Redis must be there."""
    if not settings.REDIS_URL:
        if REQUIRE_SERVICES:
            pytest.fail("EXAMPULSE_REQUIRE_SERVICES=1 but REDIS_URL is not set")
        pytest.skip("needs Redis: set REDIS_URL")
    return settings.REDIS_URL
