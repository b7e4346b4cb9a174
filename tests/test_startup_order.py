"""Start-up must not depend on the order Django runs its system checks in.

Django keeps its checks in a set, so their order follows object addresses, which shift with
the checkout path. When DRF's pagination check ran first it resolved DEFAULT_PAGINATION_CLASS,
importing `exampulse.platform.api`, which imported `rest_framework.views`, whose APIView class body reads
DEFAULT_RENDERER_CLASSES: `exampulse.platform.api` again, half-initialised, and start-up failed. These
tests resolve every dotted-string setting *first*, in a fresh interpreter, and run
`manage.py check` from copies of the tree at paths of different lengths.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("accounts", "exampulse", "exams", "monitoring", "scoring")
VIEW_MODULES = ("rest_framework.views", "rest_framework.generics", "rest_framework.viewsets")

# What APIView's class body reads: one of these importing rest_framework.views is the cycle.
APIVIEW_CLASS_BODY_SETTINGS = {
    "DEFAULT_RENDERER_CLASSES",
    "DEFAULT_PARSER_CLASSES",
    "DEFAULT_AUTHENTICATION_CLASSES",
    "DEFAULT_THROTTLE_CLASSES",
    "DEFAULT_PERMISSION_CLASSES",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS",
    "DEFAULT_METADATA_CLASS",
    "DEFAULT_VERSIONING_CLASS",
}

# DRF's, drf-spectacular's and SimpleJWT's settings objects each resolve their dotted strings on
# first access. One interpreter runs django.setup() once, then forks a child per setting so that each child
# resolves its setting before anything else has imported DRF's views (a fork is a fresh
# import state at a fraction of the cost of a new interpreter per setting).
_PROBE = r"""
import importlib, json, os, sys
import django
django.setup()
from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.settings import IMPORT_STRINGS, api_settings
from drf_spectacular.settings import IMPORT_STRINGS as SPECTACULAR_STRINGS, spectacular_settings
from rest_framework_simplejwt.settings import IMPORT_STRINGS as JWT_STRINGS, api_settings as jwt_settings

VIEWS = %(views)r
if any(name in sys.modules for name in VIEWS):
    print(json.dumps({"setup_imported_views": True}))
    sys.exit(0)

def dotted(value):
    if isinstance(value, str):
        return [value] if "." in value else []
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str) and "." in item]
    if isinstance(value, dict):
        return [item for v in value.values() for item in dotted(v)]
    return []

jobs = [("drf", name) for name in IMPORT_STRINGS]
jobs += [("spectacular", name) for name in SPECTACULAR_STRINGS]
jobs += [("simplejwt", name) for name in JWT_STRINGS]
# drf-spectacular resolves ENUM_NAME_OVERRIDES with import_string too, but lazily.
jobs += [("import", path) for path in dotted(settings.SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}))]

results = {}
for kind, name in jobs:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        outcome = {"ok": True, "error": None}
        try:
            if kind == "drf":
                outcome["value"] = dotted(api_settings.user_settings.get(name, api_settings.defaults[name]))
                getattr(api_settings, name)
            elif kind == "spectacular":
                spectacular = spectacular_settings
                outcome["value"] = dotted(spectacular.user_settings.get(name, spectacular.defaults[name]))
                getattr(spectacular_settings, name)
            elif kind == "simplejwt":
                outcome["value"] = dotted(jwt_settings.user_settings.get(name, jwt_settings.defaults[name]))
                getattr(jwt_settings, name)
            else:
                outcome["value"] = [name]
                import_string(name)
        except BaseException as exc:
            outcome.update(ok=False, error=f"{type(exc).__name__}: {exc}")
        outcome["views"] = [module for module in VIEWS if module in sys.modules]
        os.write(write, json.dumps(outcome).encode())
        os.close(write)
        os._exit(0)
    os.close(write)
    chunks = []
    while chunk := os.read(read, 65536):
        chunks.append(chunk)
    os.close(read)
    os.waitpid(pid, 0)
    results[f"{kind}:{name}"] = json.loads(b"".join(chunks))
print(json.dumps(results))
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DJANGO_SETTINGS_MODULE"] = "exampulse.settings"
    env.pop("PYTHONPATH", None)
    return env


@pytest.fixture(scope="module")
def resolved() -> dict[str, dict]:
    completed = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", _PROBE % {"views": VIEW_MODULES}],
        cwd=REPO,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    results = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "setup_imported_views" not in results, "django.setup() already imports DRF's views: the probe proves nothing"
    return results


def _names_project_code(paths: list[str]) -> bool:
    return any(path.split(".", 1)[0] in PROJECT_PACKAGES for path in paths)


def test_every_dotted_setting_resolves_first_in_a_fresh_interpreter(resolved: dict[str, dict]) -> None:
    failures = {key: outcome["error"] for key, outcome in resolved.items() if not outcome["ok"]}
    assert not failures
    # The probe covered what matters most: the settings the original failure went through.
    for key in (
        "drf:DEFAULT_PAGINATION_CLASS",
        "drf:DEFAULT_RENDERER_CLASSES",
        "drf:EXCEPTION_HANDLER",
        "spectacular:POSTPROCESSING_HOOKS",
        "simplejwt:AUTH_TOKEN_CLASSES",
    ):
        assert key in resolved


def test_settings_read_by_apiview_class_body_do_not_import_drf_views(resolved: dict[str, dict]) -> None:
    # If one did, importing rest_framework.views first would re-enter a half-initialised module.
    offenders = {
        key: outcome["views"]
        for key, outcome in resolved.items()
        if key.split(":", 1)[1] in APIVIEW_CLASS_BODY_SETTINGS and outcome["views"]
    }
    assert not offenders


def test_project_code_named_in_settings_does_not_import_drf_views(resolved: dict[str, dict]) -> None:
    # Our renderer, parser, paginator, exception handler and schema hooks must import in any order.
    # Third-party defaults such as VIEW_NAME_FUNCTION (rest_framework.views.get_view_name) or
    # drf-spectacular's AutoSchema import the views themselves; they are read lazily, never while
    # APIView's class body runs, so they cannot close the cycle.
    offenders = {
        key: outcome["views"]
        for key, outcome in resolved.items()
        if _names_project_code(outcome.get("value", [])) and (outcome["views"] or not outcome["ok"])
    }
    assert not offenders
    project_keys = [key for key, outcome in resolved.items() if _names_project_code(outcome.get("value", []))]
    assert {"drf:DEFAULT_PAGINATION_CLASS", "drf:EXCEPTION_HANDLER", "spectacular:POSTPROCESSING_HOOKS"} <= set(
        project_keys
    )


def _copy_tracked_tree(destination: Path) -> None:
    """Copy the files git tracks, as they are on disk now (uncommitted edits included)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],  # noqa: S607 - git from PATH
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in listed:
        if not raw:
            continue
        relative = raw.decode()
        source = REPO / relative
        if relative == ".venv" or relative.startswith(".venv/") or not source.is_file():
            continue  # the venv symlink, or a file deleted in the working tree
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


@pytest.mark.parametrize(
    "relative",
    ["a/checkout", "dddd/eeeeeeeeeeee/f/checkout", "j/k/l/m/n/o/p/q/r/checkout"],
)
def test_manage_py_check_passes_from_checkouts_at_different_paths(tmp_path: Path, relative: str) -> None:
    checkout = tmp_path / relative
    _copy_tracked_tree(checkout)
    env = _clean_env()
    env["DEBUG"] = "true"
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "no issues" in completed.stdout
