"""Set-password links start with PUBLIC_URL and open this server's own page, which sets the password.

End to end with Django's test client: import_roster prints a new student's link, the page behind
it takes a new password, and that password logs in over the API; the link then works no more.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from exams.models import Course
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-fresh-pass-2026"


@pytest.fixture
def roster(tmp_path, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    Course.objects.create(code="BIO-1", name="Biology")
    path = tmp_path / "roster.csv"
    path.write_text("email,name\nnew.student@example.org,New Student\n")
    return path


def printed_link(roster) -> str:
    out = io.StringIO()
    call_command("import_roster", str(roster), "--course", "BIO-1", stdout=out, stderr=io.StringIO())
    [link] = re.findall(r"new\.student@example\.org: (\S+)", out.getvalue())
    return link


def test_the_link_starts_with_public_url(roster, settings):
    settings.PUBLIC_URL = "https://exams.example.org:8443"
    assert printed_link(roster).startswith("https://exams.example.org:8443/reset?uid=")


def test_password_reset_url_still_points_links_at_a_front_end_of_ones_own(roster, settings):
    settings.PUBLIC_URL = "https://exams.example.org"
    settings.PASSWORD_RESET_URL = "https://app.example.org/set-password"
    assert printed_link(roster).startswith("https://app.example.org/set-password?uid=")


def test_import_roster_link_then_page_then_login(roster, anon_client):
    link = printed_link(roster)
    assert link.startswith("http://127.0.0.1:8000/reset?")  # the default: `make run`'s address
    parts = urlsplit(link)
    browser = Client(enforce_csrf_checks=True)

    page = browser.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0") or "no-cache" in page["Cache-Control"]
    html = page.content.decode()
    assert 'name="new_password"' in html and 'type="password"' in html
    form = {name: value for name, value in re.findall(r'name="(uid|token|csrfmiddlewaretoken)" value="([^"]+)"', html)}
    assert set(form) == {"uid", "token", "csrfmiddlewaretoken"}

    done = browser.post(parts.path, {**form, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD})
    assert done.status_code == 200
    assert "Password set for" in done.content.decode()

    login = anon_client.post(
        "/api/auth/login", {"email": "new.student@example.org", "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    assert login.json()["data"]["user"]["email"] == "new.student@example.org"
    # Once used, the link is spent: the page says so instead of offering a form.
    again = browser.get(f"{parts.path}?{parts.query}")
    assert again.status_code == 400
    assert 'name="new_password"' not in again.content.decode()


def test_the_page_refuses_a_weak_or_mismatched_password_and_changes_nothing(roster):
    parts = urlsplit(printed_link(roster))
    query = dict(pair.split("=", 1) for pair in parts.query.split("&"))
    client = Client()
    mismatch = client.post("/reset", {**query, "new_password": NEW_PASSWORD, "new_password_again": "other-pass-99"})
    assert mismatch.status_code == 400 and "The two passwords differ." in mismatch.content.decode()
    weak = client.post("/reset", {**query, "new_password": "123", "new_password_again": "123"})
    assert weak.status_code == 400 and "too short" in weak.content.decode()
    assert not User.objects.get(email="new.student@example.org").has_usable_password()


def test_a_tampered_link_shows_no_form():
    user = StudentFactory()
    page = Client().get(f"/reset/?uid=MQ&token=nope-{user.pk}")
    assert page.status_code == 400
    assert "invalid or has expired" in page.content.decode()
    assert 'name="new_password"' not in page.content.decode()


def test_the_front_page_leads_to_the_dashboard_the_admin_and_the_docs(settings):
    settings.EXAMPULSE = {**settings.EXAMPULSE, "DEMO": False}
    html = Client().get("/").content.decode()
    for href in ('href="/monitor/"', 'href="/admin/"', 'href="/api/docs/"'):
        assert href in html
    assert 'href="/demo/"' not in html
    settings.EXAMPULSE = {**settings.EXAMPULSE, "DEMO": True}
    assert 'href="/demo/"' in Client().get("/").content.decode()
