"""Production settings refuse to start without their secrets, and pass `check --deploy`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    base.update(env)
    return subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_missing_secret_key_stops_startup_when_debug_is_off():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="exams.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_missing_allowed_hosts_stops_startup_when_debug_is_off():
    result = run_manage("check", DEBUG="false", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is not set" in result.stderr


def test_bad_boolean_is_refused():
    result = run_manage("check", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_check_deploy_is_clean_in_production_mode():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY="Zq8#mW2$vL5^nR7&pT1*xC4(bY6)hJ9!kF3@dS0-gE5%uA2~oI7+tN4=",
        ALLOWED_HOSTS="exams.example.org",
    )
    assert result.returncode == 0, result.stderr + result.stdout


def settings_from(env: dict[str, str]) -> dict:
    """The settings module's values for exactly this environment, evaluated afresh in this process."""
    import runpy
    from unittest import mock

    with mock.patch.dict(os.environ, env, clear=True):
        return runpy.run_path(str(ROOT / "exampulse" / "settings.py"))


def test_redis_key_prefix_prefixes_the_channel_groups_and_the_cache_keys():
    values = settings_from({"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_KEY_PREFIX": "exams-a:"})
    assert values["CHANNEL_LAYERS"]["default"]["CONFIG"]["prefix"] == "exams-a:asgi"
    assert values["CACHES"]["default"]["KEY_PREFIX"] == "exams-a:"

    # Unset: the channel layer's and the cache's own defaults, as before the setting existed.
    values = settings_from({"REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert values["CHANNEL_LAYERS"]["default"]["CONFIG"]["prefix"] == "asgi"
    assert values["CACHES"]["default"]["KEY_PREFIX"] == ""
