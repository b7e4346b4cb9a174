"""Password reset by email: one reply for every address, a link that works once, tokens revoked, lockout lifted."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from axes.models import AccessAttempt
from django.core import mail
from rest_framework.throttling import ScopedRateThrottle

from accounts.models import AuditEntry
from tests.factories import DEFAULT_PASSWORD, StudentFactory

RESET = "/api/auth/password-reset"
CONFIRM = "/api/auth/password-reset/confirm"
NEW_PASSWORD = "Fresh-Pulse-Exam-77"
INVALID_LINK = "This reset link is invalid or has expired."


@pytest.fixture
def cheap_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def request_reset(client, email, *, address="10.1.0.1"):
    return client.post(RESET, {"email": email}, format="json", REMOTE_ADDR=address)


def link_params(message) -> dict[str, str]:
    url = re.search(r"https?://\S+", message.body).group(0)
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def confirm(client, params, password=NEW_PASSWORD, *, address="10.1.0.1"):
    body = {"uid": params["uid"], "token": params["token"], "new_password": password}
    return client.post(CONFIRM, body, format="json", REMOTE_ADDR=address)


def login(client, email, password, *, address="10.1.9.9"):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=address)


def test_known_and_unknown_emails_get_the_same_reply_and_only_the_known_one_gets_mail(anon_client, student):
    known = request_reset(anon_client, student.email.upper())
    unknown = request_reset(anon_client, "nobody@example.org")

    assert known.status_code == unknown.status_code == 200
    assert known.json() == unknown.json()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [student.email]
    params = link_params(mail.outbox[0])
    assert set(params) == {"uid", "token"}
    assert mail.outbox[0].body.startswith("Hello")
    assert "http://127.0.0.1:8000/reset?uid=" in mail.outbox[0].body


def test_the_link_points_at_the_configured_base_url(anon_client, student, settings):
    settings.PASSWORD_RESET_URL = "https://exams.example.org/set-password?lang=en"

    request_reset(anon_client, student.email)

    assert "https://exams.example.org/set-password?lang=en&uid=" in mail.outbox[0].body


def test_a_reset_sets_the_password_and_the_link_works_only_once(anon_client, student):
    request_reset(anon_client, student.email)
    params = link_params(mail.outbox[0])

    first = confirm(anon_client, params)
    again = confirm(anon_client, params, "Another-Pulse-Exam-88")

    assert first.status_code == 200, first.json()
    assert again.status_code == 400
    assert again.json() == {"error": INVALID_LINK, "details": {"code": "invalid_reset_link"}}
    assert login(anon_client, student.email, NEW_PASSWORD).status_code == 200
    assert login(anon_client, student.email, DEFAULT_PASSWORD).status_code == 401
    entry = AuditEntry.objects.get(action="password_reset")
    assert entry.actor == student and entry.target_id == str(student.pk)


def test_a_reset_revokes_every_token_the_user_held(anon_client, api_client, student):
    session = login(anon_client, student.email, DEFAULT_PASSWORD).json()
    request_reset(anon_client, student.email)

    assert confirm(anon_client, link_params(mail.outbox[0])).status_code == 200

    assert anon_client.post("/api/auth/refresh", {"refresh": session["refresh"]}, format="json").status_code == 401
    anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {session['token']}")
    assert anon_client.get("/api/auth/me").status_code == 401


def test_a_reset_lifts_a_login_lockout_on_that_account(anon_client, student, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for i in range(3):
        login(anon_client, student.email, "Wrong-guess-1", address=f"10.2.0.{i}")
    assert login(anon_client, student.email, DEFAULT_PASSWORD).status_code == 429

    request_reset(anon_client, student.email)
    assert confirm(anon_client, link_params(mail.outbox[0])).status_code == 200

    assert not AccessAttempt.objects.filter(username=student.email.lower()).exists()
    assert login(anon_client, student.email, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda p: {**p, "token": p["token"][:-2] + "xx"},
        lambda p: {**p, "uid": "MTIzNDU2Nzg5"},  # base64 of a user id that does not exist
        lambda p: {**p, "uid": "!!not-base64!!"},
        lambda p: {**p, "uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},  # an id past bigint
    ],
    ids=["bad-token", "unknown-uid", "garbled-uid", "huge-uid"],
)
def test_a_tampered_link_is_refused_with_one_clear_message(anon_client, student, tamper):
    request_reset(anon_client, student.email)

    response = confirm(anon_client, tamper(link_params(mail.outbox[0])))

    assert response.status_code == 400
    assert response.json() == {"error": INVALID_LINK, "details": {"code": "invalid_reset_link"}}
    assert login(anon_client, student.email, DEFAULT_PASSWORD).status_code == 200


def test_a_weak_new_password_is_refused_with_the_policys_reasons_and_the_link_still_works(anon_client, student):
    request_reset(anon_client, student.email)
    params = link_params(mail.outbox[0])

    weak = confirm(anon_client, params, "12345678")

    assert weak.status_code == 400
    assert "new_password" in weak.json()["details"]
    assert confirm(anon_client, params).status_code == 200


def test_an_expired_link_is_refused(anon_client, student, settings):
    request_reset(anon_client, student.email)
    params = link_params(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = -1

    assert confirm(anon_client, params).json() == {"error": INVALID_LINK, "details": {"code": "invalid_reset_link"}}


@pytest.mark.parametrize("body", [{}, {"email": "not-an-email"}, {"email": ["a@b.org"]}])
def test_a_malformed_request_is_a_400(anon_client, db, body):
    assert anon_client.post(RESET, body, format="json").status_code == 400


def test_an_inactive_account_gets_the_same_reply_and_no_mail(anon_client, db):
    gone = StudentFactory(is_active=False)

    response = request_reset(anon_client, gone.email)

    assert response.status_code == 200
    assert mail.outbox == []


def test_requests_for_one_email_are_throttled_whoever_asks(anon_client, student, cheap_hashing):
    statuses = [request_reset(anon_client, student.email, address=f"10.3.0.{i}").status_code for i in range(7)]

    assert statuses == [200] * 5 + [429] * 2
    assert len(mail.outbox) == 5
    # Another address is still served: the limit is on the mailbox, not on the caller.
    assert request_reset(anon_client, "someone-else@example.org", address="10.3.0.1").status_code == 200


def test_requests_from_one_address_are_throttled_over_any_emails(anon_client, db, monkeypatch):
    monkeypatch.setitem(ScopedRateThrottle.THROTTLE_RATES, "password_reset", "3/hour")

    statuses = [request_reset(anon_client, f"x{i}@example.org", address="10.4.0.1").status_code for i in range(4)]

    assert statuses == [200, 200, 200, 429]
    # The throttled reply says nothing about the email either.
    assert request_reset(anon_client, "x9@example.org", address="10.4.0.2").status_code == 200


def test_both_slash_forms_route(anon_client, db):
    assert anon_client.post(RESET + "/", {"email": "a@example.org"}, format="json").status_code == 200
    assert anon_client.post(CONFIRM + "/", {"uid": "x", "token": "y", "new_password": "z"}, format="json").json() == {
        "error": INVALID_LINK,
        "details": {"code": "invalid_reset_link"},
    }
