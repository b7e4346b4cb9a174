"""Auth hardening: throttling per account and per address, token revocation, forged JWTs, enumeration,
CORS, security headers and the WebSocket origin check."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from urllib.parse import quote

import jwt
import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import tokens_issue
from exampulse.platform.ws_origin import origin_allowed
from tests.factories import DEFAULT_PASSWORD, ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Brand-New-Pulse-42"


def login(client, email, password=DEFAULT_PASSWORD, address="10.0.0.1"):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=address)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def ws_status(token: str | None = None, headers: list | None = None) -> tuple[bool, int | None]:
    """Open /ws/exam/ and report (accepted, close code): a refused handshake is (False, code), a socket
    accepted and closed at once (False would hide the code from a browser) is (True, code), an open one (True, None)."""
    from exampulse.asgi import application

    async def attempt():
        path = "/ws/exam/" if token is None else f"/ws/exam/?token={quote(token)}"
        communicator = WebsocketCommunicator(application, path, headers=headers or [])
        connected, code = await communicator.connect(timeout=5)
        if connected:
            first = await communicator.receive_output(timeout=5)
            if first["type"] == "websocket.close":
                code = first.get("code")
        await communicator.disconnect()
        return connected, code

    return async_to_sync(attempt)()


# --- forged and stale tokens ---------------------------------------------------------------------


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user) -> dict:
    token = AccessToken.for_user(user)
    return dict(token.payload)


def _hmac_token(header: dict, claims: dict, key: bytes) -> str:
    """Sign by hand, so any header (and any key, a PEM included) can be combined."""
    signing_input = f"{_b64(header)}.{_b64(claims)}"
    signature = jwt.api_jws.get_algorithm_by_name("HS256").sign(signing_input.encode(), key)
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def forged_tokens(user, other) -> dict[str, str]:
    claims = _claims(user)
    key = django_settings.SIMPLE_JWT["SIGNING_KEY"]
    genuine = tokens_issue(user=user)["token"]
    header, _payload, signature = genuine.split(".")
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = rsa_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "expired": jwt.encode({**claims, "exp": int(time.time()) - 60}, key, algorithm="HS256"),
        # The payload swapped for another user's id, the genuine signature kept.
        "altered": f"{header}.{_b64({**claims, 'user_id': str(other.pk)})}.{signature}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}.",
        "HS512 with the real key": jwt.encode(claims, key + "-padded-to-64-bytes", algorithm="HS512"),
        "RS256 with an attacker's key": jwt.encode(claims, rsa_key, algorithm="RS256"),
        # Algorithm confusion: labelled RS256 but HMAC-signed with the server's own secret.
        "RS256 label, HMAC signature": _hmac_token({"alg": "RS256", "typ": "JWT"}, claims, key.encode()),
        # The classic RS256 -> HS256 confusion: an RSA public key used as the HMAC secret.
        "HS256 keyed with a public key": _hmac_token({"alg": "HS256", "typ": "JWT"}, claims, public_pem),
        "wrong key": _hmac_token({"alg": "HS256", "typ": "JWT"}, claims, b"not-the-server-key-0123456789abcdef"),
        "refresh token as access": tokens_issue(user=user)["refresh"],
    }


FORGERIES = [
    "expired",
    "altered",
    "alg none",
    "HS512 with the real key",
    "RS256 with an attacker's key",
    "RS256 label, HMAC signature",
    "HS256 keyed with a public key",
    "wrong key",
    "refresh token as access",
]


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_or_stale_jwt_is_refused_on_rest(student, other_student, kind):
    token = forged_tokens(student, other_student)[kind]

    response = bearer(token).get("/api/auth/me")

    assert response.status_code == 401
    assert set(response.json()) == {"error", "details"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_or_stale_jwt_is_refused_on_the_socket(student, other_student, kind):
    token = forged_tokens(student, other_student)[kind]

    # Accepted, then closed with 4401: the close code is what a browser can read.
    assert ws_status(token) == (True, 4401)


def test_the_genuine_token_still_works_so_the_forgeries_fail_for_their_flaw(student):
    assert bearer(tokens_issue(user=student)["token"]).get("/api/auth/me").status_code == 200


def test_an_expired_token_is_refused_even_though_correctly_signed(student, settings):
    token = AccessToken.for_user(student)
    token.set_exp(lifetime=-timedelta(seconds=1))

    assert bearer(str(token)).get("/api/auth/me").status_code == 401


# --- failed-login lockout (django-axes; accounts.throttling) -------------------------------------

LOCKED = "Too many failed login attempts. Try again in 15 minutes."


@pytest.fixture
def cheap_hashing(settings):
    """Exam-day volumes in seconds: MD5 instead of Argon2 (the lockout logic does not depend on the hasher)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_300_good_logins_from_one_address_in_a_minute_all_succeed(anon_client, cheap_hashing):
    """A lab behind one NAT at the exam's start: nothing counts good logins from one address."""
    students = StudentFactory.create_batch(300)

    statuses = [login(anon_client, s.email, address="10.50.0.1").status_code for s in students]

    assert statuses == [200] * 300


def test_guessing_one_accounts_password_is_locked_before_15_attempts(anon_client, student, other_student):
    statuses = [login(anon_client, student.email, f"Guess-{i}", address="10.0.1.1").status_code for i in range(15)]

    assert 429 in statuses[:14]
    assert statuses[statuses.index(429) :] == [429] * (15 - statuses.index(429))
    # Even the right password is refused while the account is locked.
    locked = login(anon_client, student.email, address="10.0.1.1")
    assert locked.status_code == 429
    assert locked.json() == {"error": LOCKED, "details": {"code": "login_locked_out"}}
    # Another account logs in from the same address: the address has its own, larger budget.
    assert login(anon_client, other_student.email, address="10.0.1.1").status_code == 200


def test_failed_logins_on_one_account_are_locked_across_addresses(anon_client, student, settings):
    settings.AXES_FAILURE_LIMIT = 3
    # A botnet: every attempt from a different address, so no address budget is touched.
    statuses = [login(anon_client, student.email, "Wrong-1", address=f"10.0.1.{i}").status_code for i in range(4)]

    assert statuses == [401, 401, 429, 429]
    # Even the right password waits: the account is locked for the window, not the attacker's address.
    assert login(anon_client, student.email, address="10.0.2.1").status_code == 429
    # Another account is unaffected.
    other = StudentFactory()
    assert login(anon_client, other.email, address="10.0.1.9").status_code == 200


def test_the_account_lockout_treats_unknown_emails_alike_so_429_reveals_nothing(anon_client, student, settings):
    settings.AXES_FAILURE_LIMIT = 3

    def attempts(email):
        return [login(anon_client, email, "Wrong-1", address=f"10.0.3.{i}") for i in range(4)]

    unknown, known = attempts("nobody@example.org"), attempts(student.email)

    assert [r.status_code for r in unknown] == [r.status_code for r in known] == [401, 401, 429, 429]
    assert [r.json() for r in unknown] == [r.json() for r in known]


def test_successful_logins_never_count_against_the_account(anon_client, student, settings):
    settings.AXES_FAILURE_LIMIT = 2
    statuses = [login(anon_client, student.email, address=f"10.0.4.{i}").status_code for i in range(5)]

    assert statuses == [200] * 5


def test_one_address_spraying_120_accounts_is_locked_before_the_end(anon_client, db, cheap_hashing):
    """Password spraying over a class list: each account fails once, the address reaches its budget (100)."""
    statuses = [
        login(anon_client, f"victim{i}@example.org", "Wrong-1", address="10.9.9.9").status_code for i in range(120)
    ]

    assert 429 in statuses
    first = statuses.index(429)
    assert first < 119
    assert statuses[:first] == [401] * first
    assert set(statuses[first:]) == {429}
    # Other addresses, and the same accounts from them, are unaffected.
    student = StudentFactory(email="victim7@example.org")
    assert login(anon_client, student.email, address="10.9.9.10").status_code == 200


def test_a_lockout_lifts_after_the_cool_off(anon_client, student, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for i in range(2):
        login(anon_client, student.email, "Wrong-1", address=f"10.0.7.{i}")
    assert login(anon_client, student.email, address="10.0.7.9").status_code == 429

    from axes.models import AccessAttempt
    from django.utils import timezone

    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert login(anon_client, student.email, address="10.0.7.9").status_code == 200


def test_a_forwarded_for_header_does_not_change_the_address_without_a_trusted_proxy(anon_client, db, settings):
    """Without TRUSTED_PROXY_COUNT, X-Forwarded-For is the client's own claim: a sprayer cannot rotate it."""
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    statuses = [
        anon_client.post(
            "/api/auth/login",
            {"email": f"v{i}@example.org", "password": "Wrong-1"},
            format="json",
            REMOTE_ADDR="10.9.8.1",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{i}",
        ).status_code
        for i in range(4)
    ]

    assert statuses == [401, 401, 429, 429]


def test_the_admin_login_is_locked_out_too(client, proctor, settings):
    settings.AXES_FAILURE_LIMIT = 2
    for _ in range(2):
        client.post("/admin/login/", {"username": proctor.email, "password": "Wrong-1"}, REMOTE_ADDR="10.0.8.1")

    response = client.post(
        "/admin/login/", {"username": proctor.email, "password": DEFAULT_PASSWORD}, REMOTE_ADDR="10.0.8.2"
    )

    assert response.status_code == 429
    assert "Too many failed login attempts" in response.content.decode()


def test_a_lockout_flagged_outside_the_api_views_still_answers_the_envelope_under_api(rf):
    from accounts.throttling import lockout_response

    api = lockout_response(rf.post("/api/auth/login"))
    admin = lockout_response(rf.post("/admin/login/"))

    assert api.status_code == admin.status_code == 429
    assert json.loads(api.content) == {"error": LOCKED, "details": {"code": "login_locked_out"}}
    assert admin.content.decode() == LOCKED


def test_lockout_limits_come_from_the_environment():
    import subprocess
    import sys

    from tests.test_settings import ROOT

    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.AXES_FAILURE_LIMIT, s.LOGIN_FAILURES_PER_ADDRESS, s.AXES_COOLOFF_TIME.seconds, "
        "s.REST_FRAMEWORK['NUM_PROXIES'], s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['register'])"
    )
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "exampulse.settings"}
    # Our own interpreter and a constant script.
    defaults = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)  # noqa: S603
    custom = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            **env,
            "LOGIN_FAILURES_PER_ACCOUNT": "5",
            "LOGIN_FAILURES_PER_ADDRESS": "250",
            "LOGIN_LOCKOUT_MINUTES": "30",
            "TRUSTED_PROXY_COUNT": "1",
            "REGISTER_THROTTLE_RATE": "1000/hour",
        },
        capture_output=True,
        text=True,
    )

    assert defaults.stdout.split() == ["10", "100", "900", "0", "500/hour"], defaults.stderr
    assert custom.stdout.split() == ["5", "250", "1800", "1", "1000/hour"], custom.stderr


def test_a_class_of_300_can_register_from_one_lab(anon_client, db, cheap_hashing):
    statuses = [
        anon_client.post(
            "/api/auth/register",
            {"name": f"Student {i}", "email": f"class{i}@example.org", "password": "Tr1cky-Pulse-Exam"},
            format="json",
            REMOTE_ADDR="10.60.0.1",
        ).status_code
        for i in range(300)
    ]

    assert statuses == [201] * 300


# --- revocation on logout and password change ----------------------------------------------------


def test_changing_the_password_revokes_every_refresh_and_access_token(anon_client, student):
    first = login(anon_client, student.email, address="10.0.5.1").json()
    second = login(anon_client, student.email, address="10.0.5.2").json()  # another device

    response = bearer(first["token"]).post(
        "/api/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"message", "data", "token", "refresh"}
    for old in (first, second):
        assert anon_client.post("/api/auth/refresh", {"refresh": old["refresh"]}, format="json").status_code == 401
        assert bearer(old["token"]).get("/api/auth/me").status_code == 401
    # The fresh pair handed back works, and so does the new password.
    assert bearer(body["token"]).get("/api/auth/me").status_code == 200
    assert anon_client.post("/api/auth/refresh", {"refresh": body["refresh"]}, format="json").status_code == 200
    assert login(anon_client, student.email, NEW_PASSWORD, address="10.0.5.3").status_code == 200
    assert login(anon_client, student.email, DEFAULT_PASSWORD, address="10.0.5.4").status_code == 401


def logout(tokens: dict):
    return bearer(tokens["token"]).post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")


def test_logout_revokes_that_devices_access_token_and_no_other(anon_client, student):
    laptop = login(anon_client, student.email, address="10.0.9.1").json()
    phone = login(anon_client, student.email, address="10.0.9.2").json()

    assert logout(laptop).status_code == 200

    refused = bearer(laptop["token"]).get("/api/auth/me")
    assert refused.status_code == 401
    assert set(refused.json()) == {"error", "details"}
    assert anon_client.post("/api/auth/refresh", {"refresh": laptop["refresh"]}, format="json").status_code == 401
    # The other device stays logged in.
    assert bearer(phone["token"]).get("/api/auth/me").status_code == 200
    assert anon_client.post("/api/auth/refresh", {"refresh": phone["refresh"]}, format="json").status_code == 200


def test_logout_purges_denylist_rows_whose_tokens_have_expired(anon_client, student):
    from django.utils import timezone

    from accounts.models import RevokedAccessToken

    RevokedAccessToken.objects.create(jti="long-gone", user=student, expires_at=timezone.now() - timedelta(seconds=1))

    logout(login(anon_client, student.email, address="10.0.9.3").json())

    assert not RevokedAccessToken.objects.filter(jti="long-gone").exists()
    assert RevokedAccessToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_logout_closes_the_socket_door_for_that_access_token_only(student):
    laptop, phone = tokens_issue(user=student), tokens_issue(user=student)
    assert ws_status(laptop["token"]) == (True, None)

    assert logout(laptop).status_code == 200

    assert ws_status(laptop["token"]) == (True, 4401)
    assert ws_status(phone["token"]) == (True, None)


def test_the_socket_handshake_batch_checks_revocation_in_one_query(student, other_student, django_assert_num_queries):
    from accounts.ws_auth import users_from_tokens

    revoked, kept, other = tokens_issue(user=student), tokens_issue(user=student), tokens_issue(user=other_student)
    logout(revoked)

    # One denylist query and one user query for the whole batch, however many handshakes it holds.
    with django_assert_num_queries(2):
        users = users_from_tokens([revoked["token"], kept["token"], other["token"], "garbage"])

    assert [getattr(user, "pk", None) for user in users] == [None, student.pk, other_student.pk, None]


@pytest.mark.django_db(transaction=True)
def test_a_password_change_closes_the_socket_door_for_old_access_tokens(student):
    old = tokens_issue(user=student)["token"]
    assert ws_status(old)[0]

    bearer(old).post(
        "/api/auth/change-password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
    )

    assert ws_status(old) == (True, 4401)


def test_a_wrong_current_password_changes_nothing(student):
    token = tokens_issue(user=student)["token"]

    response = bearer(token).post(
        "/api/auth/change-password", {"current_password": "Not-It-123", "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    assert "current_password" in response.json()["details"]
    student.refresh_from_db()
    assert student.check_password(DEFAULT_PASSWORD)
    assert bearer(token).get("/api/auth/me").status_code == 200


@pytest.mark.parametrize("weak", ["password", "12345678", "short"])
def test_a_weak_new_password_is_refused_with_the_reason(student, weak):
    response = bearer(tokens_issue(user=student)["token"]).post(
        "/api/auth/change-password", {"current_password": DEFAULT_PASSWORD, "new_password": weak}, format="json"
    )

    assert response.status_code == 400
    assert "new_password" in response.json()["details"]


def test_change_password_needs_authentication(anon_client):
    response = anon_client.post(
        "/api/auth/change-password", {"current_password": "a", "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 401


# --- no user enumeration -----------------------------------------------------------------------


def test_login_answers_alike_for_unknown_email_wrong_password_and_inactive_account(anon_client, student):
    inactive = StudentFactory(is_active=False)
    answers = [
        login(anon_client, "ghost@example.org", "Wrong-1", address="10.0.6.1"),
        login(anon_client, student.email, "Wrong-1", address="10.0.6.2"),
        login(anon_client, inactive.email, address="10.0.6.3"),
    ]

    assert {r.status_code for r in answers} == {401}
    assert len({json.dumps(r.json(), sort_keys=True) for r in answers}) == 1


# --- CORS, headers, origins --------------------------------------------------------------------


def test_cors_allows_only_listed_origins(anon_client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://exams.example.org"]

    allowed = anon_client.options(
        "/api/auth/login", HTTP_ORIGIN="https://exams.example.org", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    foreign = anon_client.options(
        "/api/auth/login", HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )

    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://exams.example.org"
    assert "Access-Control-Allow-Origin" not in foreign.headers
    assert "Access-Control-Allow-Credentials" not in allowed.headers  # bearer tokens, not cookies, cross-origin


def test_cors_allow_list_comes_from_the_environment():
    import subprocess
    import sys

    from tests.test_settings import ROOT

    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from django.conf import settings; import django; django.setup(); print(settings.CORS_ALLOWED_ORIGINS)",
        ],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "exampulse.settings",
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "['https://a.example', 'https://b.example']", result.stderr


def test_responses_carry_the_security_headers(anon_client):
    response = anon_client.get("/api/health")

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db(transaction=True)
class TestWebSocketOrigin:
    HOST = [(b"host", b"127.0.0.1:8000")]

    def test_a_token_client_without_origin_is_let_in(self, student):
        assert ws_status(tokens_issue(user=student)["token"]) == (True, None)

    def test_a_foreign_browser_origin_is_refused_even_with_a_valid_token(self, student):
        headers = [*self.HOST, (b"origin", b"https://evil.example")]
        connected, _ = ws_status(tokens_issue(user=student)["token"], headers=headers)
        assert not connected

    def test_the_servers_own_origin_is_accepted(self, student):
        headers = [*self.HOST, (b"origin", b"http://127.0.0.1:8000")]
        connected, _ = ws_status(tokens_issue(user=student)["token"], headers=headers)
        assert connected

    @pytest.mark.parametrize("origin", [b"http://127.0.0.1:9999", b"https://127.0.0.1", b"http://127.0.0.1"])
    def test_the_same_host_on_another_port_or_scheme_is_refused_with_a_proctors_session_cookie(self, client, origin):
        proctor = ProctorFactory()
        client.force_login(proctor)
        cookie = f"{django_settings.SESSION_COOKIE_NAME}={client.cookies[django_settings.SESSION_COOKIE_NAME].value}"
        own = [*self.HOST, (b"cookie", cookie.encode()), (b"origin", b"http://127.0.0.1:8000")]
        assert ws_status(headers=own) == (True, None)  # the dashboard's own page gets in with the cookie

        assert ws_status(headers=[*self.HOST, (b"cookie", cookie.encode()), (b"origin", origin)])[0] is False

    def test_no_token_and_no_origin_is_still_refused(self):
        assert ws_status(None) == (True, 4401)


SERVER = {"type": "websocket", "headers": [(b"host", b"127.0.0.1:8000")]}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        (None, True),
        ("http://127.0.0.1:8000", True),
        ("HTTP://127.0.0.1:8000/", True),  # scheme and host compare without case; an empty path is no path
        ("http://127.0.0.1:9999", False),  # same host, another port
        ("https://127.0.0.1", False),  # same host, another scheme (and port)
        ("https://127.0.0.1:8000", False),  # same host and port, another scheme
        ("http://127.0.0.1", False),  # port 80 is not 8000
        ("http://localhost:8000", False),  # another name for the machine is another origin
        ("https://exams.example.org", True),  # in CORS_ALLOWED_ORIGINS below
        ("https://exams.example.org:444", False),
        ("http://exams.example.org", False),
        ("https://admin.example.net", True),  # in CSRF_TRUSTED_ORIGINS below
        ("https://evil.example", False),
        ("null", False),
        ("", False),
        ("file://", False),
        ("javascript:alert(1)", False),
        ("http://127.0.0.1:8000.evil.example", False),
        ("http://user@127.0.0.1:8000", False),
    ],
)
def test_origin_rules(settings, origin, allowed):
    settings.CORS_ALLOWED_ORIGINS = ["https://exams.example.org"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://admin.example.net"]
    assert origin_allowed(origin, scope=SERVER) is allowed


def _scope(host: bytes, *extra: tuple[bytes, bytes], scheme: str | None = None) -> dict:
    scope = {"type": "websocket", "headers": [(b"host", host), *extra]}
    if scheme:
        scope["scheme"] = scheme
    return scope


def test_behind_a_tls_proxy_the_scheme_comes_from_the_header_django_trusts(settings):
    settings.ALLOWED_HOSTS = ["exams.example.org"]
    forwarded = _scope(b"exams.example.org", (b"x-forwarded-proto", b"https"))
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert origin_allowed("https://exams.example.org", scope=forwarded)
    assert not origin_allowed("http://exams.example.org", scope=forwarded)
    # Without the setting the header is not trusted: the handshake's own scheme (ws) counts.
    settings.SECURE_PROXY_SSL_HEADER = None
    assert not origin_allowed("https://exams.example.org", scope=forwarded)
    assert origin_allowed("http://exams.example.org", scope=forwarded)
    # A server that terminates TLS itself reports wss.
    assert origin_allowed("https://exams.example.org", scope=_scope(b"exams.example.org", scheme="wss"))


def test_a_host_outside_allowed_hosts_never_counts_as_the_servers_origin(settings):
    settings.ALLOWED_HOSTS = ["exams.example.org"]
    # DNS rebinding: the attacker's name points at the server, so Origin and Host agree.
    assert not origin_allowed("http://rebind.evil.example", scope=_scope(b"rebind.evil.example"))
    assert not origin_allowed("http://exams.example.org", scope={"type": "websocket", "headers": []})
