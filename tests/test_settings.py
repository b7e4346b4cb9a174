"""Production settings refuse to start without their secrets, and pass `check --deploy`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG"}}
    # A developer's own .env must not decide these tests: none is read unless a test names one.
    base["ENV_FILE"] = ""
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


SHOW_KEY = "from django.conf import settings; print(settings.SECRET_KEY)"
# The constant development key the settings used to fall back to: public, so anyone could sign tokens with it.
PUBLISHED_DEV_KEY = "dev-only-insecure-key-change-me-for-anything-public-0123456789"


def test_development_makes_a_random_secret_on_first_run_keeps_it_private_and_reuses_it(tmp_path):
    key_file = tmp_path / "var" / "secret_key"

    first = run_manage("shell", "-c", SHOW_KEY, DEBUG="true", SECRET_KEY_FILE=str(key_file))
    again = run_manage("shell", "-c", SHOW_KEY, DEBUG="true", SECRET_KEY_FILE=str(key_file))

    assert first.returncode == 0, first.stderr
    key = first.stdout.strip().splitlines()[-1]
    assert len(key) >= 50 and key != PUBLISHED_DEV_KEY
    assert again.stdout.strip().splitlines()[-1] == key
    assert key_file.read_text().strip() == key
    assert key_file.stat().st_mode & 0o777 == 0o600
    other = run_manage("shell", "-c", SHOW_KEY, DEBUG="true", SECRET_KEY_FILE=str(tmp_path / "elsewhere"))
    assert other.stdout.strip().splitlines()[-1] != key  # another checkout, another key


def test_an_explicit_secret_key_wins_and_no_file_is_written(tmp_path):
    key_file = tmp_path / "secret_key"
    result = run_manage("shell", "-c", SHOW_KEY, DEBUG="true", SECRET_KEY="k" * 60, SECRET_KEY_FILE=str(key_file))
    assert result.stdout.strip().splitlines()[-1] == "k" * 60
    assert not key_file.exists()


def test_the_generated_development_key_stays_out_of_git():
    git = shutil.which("git") or "git"
    ignored = subprocess.run([git, "check-ignore", "-q", "var/secret_key"], cwd=ROOT, capture_output=True, timeout=30)  # noqa: S603
    assert ignored.returncode == 0


@pytest.mark.django_db
def test_a_token_signed_with_the_old_published_development_key_is_refused():
    import jwt
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    from tests.factories import StudentFactory

    claims = dict(AccessToken.for_user(StudentFactory()).payload)
    forged = jwt.encode(claims, PUBLISHED_DEV_KEY, algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert client.get("/api/auth/me").status_code == 401


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


def settings_print(expression: str, **env: str) -> str:
    """Print a settings expression in a fresh interpreter, as run_manage's environment sets it."""
    code = f"import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'exampulse.settings'; {expression}"
    # The variables these tests set or put in a file come only from the test (`make` may export some).
    unset = {"SECRET_KEY", "ALLOWED_HOSTS", "DEBUG", "ENV_FILE", "PUBLIC_URL", "API_PAGE_SIZE"}
    base = {k: v for k, v in os.environ.items() if k not in unset}
    base.update(env)
    result = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter
        [sys.executable, "-c", code], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


SHOW = "from django.conf import settings; print(settings.PUBLIC_URL, settings.REST_FRAMEWORK['PAGE_SIZE'])"


def test_a_dot_env_file_is_read_and_the_environment_wins_over_it(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# a comment\nPUBLIC_URL=https://exams.example.org\nAPI_PAGE_SIZE=7\n")
    assert settings_print(SHOW, ENV_FILE=str(env_file)).split() == ["https://exams.example.org", "7"]
    overridden = settings_print(SHOW, ENV_FILE=str(env_file), API_PAGE_SIZE="9")
    assert overridden.split() == ["https://exams.example.org", "9"]


def test_the_dot_env_read_by_default_sits_beside_manage_py():
    show = "from django.conf import settings; print(settings.ENV_FILE)"
    assert settings_print(show).strip() == str(ROOT / ".env")
    assert settings_print(show, ENV_FILE="").strip() == ""
    assert ".env" in (ROOT / ".gitignore").read_text().split()


DUMP = (
    "import json; from django.conf import settings; "
    "print(json.dumps({n: getattr(settings, n) for n in dir(settings) if n.isupper() and not n.startswith('_')"
    " and n != 'ENV_FILE'}, default=repr, sort_keys=True))"
)


def test_copying_env_example_to_dot_env_changes_no_setting():
    """Its empty values mean unset, its others are the defaults: the line "copy to .env" is safe."""
    without = json.loads(settings_print(DUMP, ENV_FILE=""))
    copied = json.loads(settings_print(DUMP, ENV_FILE=str(ROOT / ".env.example")))
    assert copied == without
