"""The documentation lives in the repository and stays true to it.

A clone must be readable on its own: nothing may point outside the repository, every relative link
and anchor in README.md, SECURITY.md and docs/ must land on a file and a heading that exist, and the
reference pages must name every setting, route, frame and error code the code has. Failures name
what to fix.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from harness.servers import ROOT

DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md", ROOT / "SECURITY.md", *sorted(DOCS.glob("*.md"))]
API = DOCS / "api.md"
OPERATIONS = DOCS / "operations.md"
THIS_FILE = Path(__file__).resolve()

# Places that exist only on the machine the project was written on, or beside the repository.
OUTSIDE = re.compile(r"\.\./shared|/work/|shared/(?:DESIGN|STYLE|spec)|seed-backend-doc|\bDESIGN\b|\bSTYLE\.md\b")
MARKDOWN_NAME = re.compile(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.md)\b")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.MULTILINE)


def repository_files() -> list[Path]:
    """Tracked files and new ones git does not ignore (so a file not yet committed is checked too)."""
    # A fixed git command in our own checkout.
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [ROOT / name for name in sorted(set(listed)) if (ROOT / name).is_file()]


def text_of(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None  # binary files hold no references


def without_code_blocks(markdown: str) -> str:
    return FENCE.sub("", markdown)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors_of(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    anchors = set()
    for _, heading in HEADING.findall(without_code_blocks(path.read_text())):
        slug = github_anchor(heading)
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def test_nothing_in_the_repository_points_outside_it():
    offenders = []
    for path in repository_files():
        if path == THIS_FILE:
            continue
        text = text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not offenders, "point these at docs/ (docs/design.md is the design contract):\n" + "\n".join(offenders)


def test_every_markdown_file_the_repository_names_is_in_it():
    """`SECURITY.md`, `docs/api.md`, `design.md`...: a name of a page that is not in the clone is a dead end."""
    pages = {path.relative_to(ROOT).as_posix() for path in repository_files() if path.suffix == ".md"}
    names = {Path(page).name for page in pages}
    missing = []
    for path in repository_files():
        text = text_of(path) if path != THIS_FILE else None
        for number, line in enumerate((text or "").splitlines(), 1):
            for name in MARKDOWN_NAME.findall(line):
                relative = (path.parent / name).resolve()
                if name in pages or Path(name).name in names or relative.is_file():
                    continue
                missing.append(f"{path.relative_to(ROOT)}:{number}: {name}")
    assert not missing, "these pages are not in the repository:\n" + "\n".join(missing)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_and_anchor_resolves(page: Path):
    broken = []
    for target in LINK.findall(without_code_blocks(page.read_text())):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        destination = (page.parent / file_part).resolve() if file_part else page
        if not destination.is_relative_to(ROOT) or not destination.exists():
            broken.append(f"{target}: no such file in the repository")
            continue
        if anchor and destination.suffix == ".md" and anchor not in anchors_of(destination):
            broken.append(f"{target}: no heading with that anchor in {destination.relative_to(ROOT)}")
    assert not broken, f"{page.relative_to(ROOT)}:\n" + "\n".join(broken)


def test_the_readme_has_a_table_of_contents_that_covers_its_sections():
    text = (ROOT / "README.md").read_text()
    contents = text[text.index("## Contents") :].split("\n## ", 1)[0]
    listed = set(re.findall(r"\]\(#([^)]+)\)", contents))
    sections = {github_anchor(h) for level, h in HEADING.findall(without_code_blocks(text)) if level == "##"}
    assert sections - {"contents"} <= listed, sorted(sections - {"contents"} - listed)
    assert len(text.splitlines()) < 400, "the README is the entry point; details belong in docs/"


def test_the_docs_call_manage_py_one_way():
    """`.venv/bin/python manage.py <command>`, as the README says once; never `python manage.py`."""
    offenders = []
    for page in PAGES:
        for number, line in enumerate(page.read_text().splitlines(), 1):
            if re.search(r"(?<!\.venv/bin/)python3? manage\.py|`manage\.py \w", line):
                offenders.append(f"{page.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def _settings_variables() -> set[str]:
    """Every variable exampulse/settings.py and asgi.py read from the environment."""
    names = set()
    for module in ("exampulse/settings.py", "exampulse/asgi.py"):
        for node in ast.walk(ast.parse((ROOT / module).read_text())):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                func = ast.unparse(node.func)
                if func.startswith("env_") or func in {"os.environ.get", "os.getenv"}:
                    names.add(node.args[0].value)
            elif (
                isinstance(node, ast.Subscript)
                and ast.unparse(node.value) == "os.environ"
                and isinstance(node.slice, ast.Constant)
            ):
                names.add(node.slice.value)
    return {name for name in names if isinstance(name, str) and name.isupper()}


def test_every_environment_variable_is_documented_and_in_env_example():
    variables = _settings_variables()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "WS_DB_THREADS", "GC_LOG_PAUSES_MS"} <= variables
    operations = OPERATIONS.read_text()
    configuration = operations[operations.index("## Configuration") :].split("\n## ", 1)[0]
    example = (ROOT / ".env.example").read_text()
    undocumented = sorted(v for v in variables if f"`{v}`" not in configuration)
    assert not undocumented, f"add to docs/operations.md's Configuration table: {undocumented}"
    # Test-only variables are documented but have no place in a deployment's .env, nor has the
    # variable that names the .env file itself.
    not_in_example = sorted(
        v for v in variables - {"TEST_DATABASE_NAME", "ENV_FILE"} if not re.search(rf"^{v}=", example, re.M)
    )
    assert not not_in_example, f"add to .env.example: {not_in_example}"


def _api_text() -> str:
    return API.read_text()


def _normalise(path: str) -> str:
    return re.sub(r"<[^>]+>", "<>", path).rstrip("/")


@pytest.mark.django_db
def test_every_api_route_is_in_the_api_reference():
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    routes = set()
    for raw in walk(get_resolver().url_patterns):
        path = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", raw).replace("^", "").replace("/?$", "").replace("$", "")
        if path.startswith("api/"):
            routes.add(_normalise("/" + path))
    documented = {_normalise(path) for path in re.findall(r"/api/[\w/<>.-]*", _api_text())}
    assert len(routes) > 40
    assert not routes - documented, f"document in docs/api.md: {sorted(routes - documented)}"


def test_every_socket_frame_is_in_the_api_reference():
    from monitoring.live.frames import CLIENT_EVENTS
    from monitoring.pushes import SERVER_EVENTS

    text = _api_text()
    missing = sorted(name for name in CLIENT_EVENTS | SERVER_EVENTS if not re.search(rf"`{name}[` ]", text))
    assert not missing, f"document these frames in docs/api.md: {missing}"


def _error_codes() -> set[str]:
    """`code = "..."` of every domain error class, and the literal codes of the socket's refusals."""
    codes = set()
    for package in ("accounts", "exams", "monitoring", "scoring", "exampulse"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ClassDef):
                    for item in node.body:
                        if (
                            isinstance(item, ast.Assign)
                            and [ast.unparse(t) for t in item.targets] == ["code"]
                            and isinstance(item.value, ast.Constant)
                        ):
                            codes.add(item.value.value)
                elif (
                    isinstance(node, ast.Call)
                    and ast.unparse(node.func) in {"FrameError", "error_frame"}
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    codes.add(node.args[0].value)
    return codes


def test_every_error_code_is_in_the_api_reference():
    codes = _error_codes()
    assert {"exam_not_yours", "session_paused", "rate_limited", "bad_json"} <= codes
    text = _api_text()
    table = text[text.index("## Error codes") :].split("\n## ", 1)[0]
    missing = sorted(code for code in codes if f"| `{code}` |" not in table)
    assert not missing, f"add to docs/api.md's Error codes table: {missing}"
