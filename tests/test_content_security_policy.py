"""Every HTML page carries a Content-Security-Policy that allows no inline code, and no template has any.

tests/browser/test_content_security_policy.py loads the pages in Chromium and checks nothing is blocked.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.services import proctor_add_to_group
from exams.sessions import session_start
from harness.servers import ROOT
from tests.factories import ProctorFactory, StudentFactory
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db


def _directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


@pytest.fixture
def pages(settings):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "DEMO": True}
    proctor = ProctorFactory()
    proctor_add_to_group(user=proctor)
    exam = make_exam(proctor)
    session = session_start(exam=exam, user=StudentFactory())
    client = Client()
    client.force_login(proctor)
    return client, {
        "admin login": "/admin/login/?anonymous",
        "admin index": "/admin/",
        "admin review page": f"/admin/exams/examsession/{session.pk}/change/",
        "dashboard list": "/monitor/",
        "dashboard": f"/monitor/exam/{exam.pk}/",
        "demo index": "/demo/",
        "demo exam": f"/demo/exam/{exam.pk}/",
        "api docs": "/api/docs/",
    }


def _get(client: Client, path: str):
    """The page as its visitor sees it: the login page anonymously, the rest as the proctor."""
    if path.endswith("?anonymous"):
        return Client().get(path.removesuffix("?anonymous"))
    return client.get(path)


def test_every_html_page_sends_a_policy_without_inline_code_or_foreign_hosts(pages):
    client, paths = pages
    for name, path in paths.items():
        response = _get(client, path)
        assert response.status_code == 200, (name, response.status_code)
        assert response["Content-Type"].startswith("text/html"), name
        policy = _directives(response["Content-Security-Policy"])
        assert policy["script-src"] == ["'self'"], (name, policy)
        assert policy["style-src"] == ["'self'"], (name, policy)
        assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"], name
        # Fetches and the page's own socket only: ws://testserver is this host.
        assert set(policy["connect-src"]) == {"'self'", "ws://testserver"}, (name, policy)


# What a page may not contain under the policy: inline scripts (a JSON data block is not run),
# inline styles, style attributes and event-handler attributes.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle=", re.I)
HANDLER_ATTRIBUTE = re.compile(r"\son[a-z]+\s*=", re.I)


def test_no_template_of_ours_holds_inline_code():
    offending = []
    templates = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "monitoring").rglob("templates/**/*.html")]
    for template in templates:
        text = template.read_text()
        for rule in (INLINE_SCRIPT, INLINE_STYLE, STYLE_ATTRIBUTE, HANDLER_ATTRIBUTE):
            offending += [f"{template.relative_to(ROOT)}: {match.group(0)}" for match in rule.finditer(text)]
    assert templates and not offending, offending


def test_the_rendered_pages_hold_no_inline_code(pages):
    client, paths = pages
    for name, path in paths.items():
        html = _get(client, path).content.decode()
        for rule in (INLINE_SCRIPT, INLINE_STYLE, STYLE_ATTRIBUTE, HANDLER_ATTRIBUTE):
            found = rule.findall(html)
            assert not found, (name, found)
