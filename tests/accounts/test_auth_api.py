"""The auth API through the REST client: register, login, refresh, logout, me, update-profile."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import identify_hasher

from accounts.models import Role, User
from tests.factories import DEFAULT_PASSWORD, ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db

STRONG = "Tr1cky-Pulse-Exam"


def register(client, **overrides):
    body = {"name": "John Doe", "email": "john@test.com", "password": STRONG}
    body.update(overrides)
    return client.post("/api/auth/register", body, format="json")


def login(client, email, password=DEFAULT_PASSWORD):
    return client.post("/api/auth/login", {"email": email, "password": password}, format="json")


class TestRegister:
    def test_register_creates_a_student_with_a_strong_hash(self, anon_client, production_hashers):
        response = register(anon_client)
        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"message", "token", "refresh", "data"}
        assert body["data"]["user"]["email"] == "john@test.com"
        assert body["data"]["user"]["role"] == "student"
        assert "password" not in body["data"]["user"]
        user = User.objects.get(email="john@test.com")
        assert identify_hasher(user.password).algorithm == "argon2"

    def test_register_returns_a_working_token_pair_like_login(self, anon_client):
        body = register(anon_client).json()

        anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
        assert anon_client.get("/api/auth/me").json()["data"]["user"]["email"] == "john@test.com"
        anon_client.credentials()
        assert anon_client.post("/api/auth/refresh", {"refresh": body["refresh"]}, format="json").status_code == 200

    def test_register_ignores_a_requested_proctor_role(self, anon_client):
        response = register(anon_client, role="proctor", is_staff=True)
        assert response.status_code == 201
        user = User.objects.get(email="john@test.com")
        assert user.role == Role.STUDENT
        assert not user.is_staff

    def test_the_specs_weak_example_password_is_refused_with_a_reason(self, anon_client):
        response = register(anon_client, password="test123")
        assert response.status_code == 400
        body = response.json()
        assert "password" in body["error"].lower()
        assert "too short" in body["error"] or "too common" in body["error"]
        assert "password" in body["details"]
        assert not User.objects.filter(email="john@test.com").exists()

    def test_numeric_password_is_refused(self, anon_client):
        response = register(anon_client, password="83749201938")
        assert response.status_code == 400

    def test_duplicate_email_differing_only_in_case_is_refused(self, anon_client):
        assert register(anon_client).status_code == 201
        response = register(anon_client, email="JOHN@Test.com")
        assert response.status_code == 409
        assert User.objects.filter(email__iexact="john@test.com").count() == 1

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("email", "not-an-email"),
            ("email", ""),
            ("name", ""),
            ("name", "x" * 151),
            ("password", ""),
            ("semester", "three"),
            ("semester", 0),
            ("phone", "9" * 31),
        ],
    )
    def test_invalid_fields_get_a_400_naming_the_field(self, anon_client, field, value):
        response = register(anon_client, **{field: value})
        assert response.status_code == 400
        body = response.json()
        assert field in body["details"]
        assert body["error"].startswith("Invalid input")

    def test_missing_fields_are_listed(self, anon_client):
        response = anon_client.post("/api/auth/register", {}, format="json")
        assert response.status_code == 400
        assert set(response.json()["details"]) >= {"name", "email", "password"}

    def test_malformed_json_is_a_400_not_a_500(self, anon_client):
        response = anon_client.post("/api/auth/register", data="{not json", content_type="application/json")
        assert response.status_code == 400
        assert "JSON" in response.json()["error"]

    def test_a_json_list_body_is_a_400(self, anon_client):
        response = anon_client.post("/api/auth/register", data="[1, 2]", content_type="application/json")
        assert response.status_code == 400

    def test_form_encoded_body_is_unsupported_media_type(self, anon_client):
        response = anon_client.post("/api/auth/register", data="a=b", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415
        assert response.json()["error"]

    def test_huge_string_is_refused(self, anon_client):
        response = register(anon_client, name="n" * 100_000)
        assert response.status_code == 400

    def test_trailing_slash_form_works_too(self, anon_client):
        response = anon_client.post(
            "/api/auth/register/", {"name": "A", "email": "a@b.org", "password": STRONG}, format="json"
        )
        assert response.status_code == 201


class TestLogin:
    def test_login_returns_token_refresh_and_user(self, anon_client, student):
        response = login(anon_client, student.email)
        assert response.status_code == 200
        body = response.json()
        assert body["token"] and body["refresh"]
        assert body["data"]["user"]["id"] == student.id

    def test_login_email_is_case_insensitive(self, anon_client, student):
        assert login(anon_client, student.email.upper()).status_code == 200

    def test_wrong_password_and_unknown_email_get_the_same_answer(self, anon_client, student):
        wrong = login(anon_client, student.email, "Wrong-Password-1")
        unknown = login(anon_client, "nobody@example.org", "Wrong-Password-1")
        assert wrong.status_code == unknown.status_code == 401
        assert wrong.json()["error"] == unknown.json()["error"]

    def test_inactive_user_cannot_log_in(self, anon_client):
        user = StudentFactory(is_active=False)
        assert login(anon_client, user.email).status_code == 401

    def test_token_authenticates_me(self, anon_client, student):
        token = login(anon_client, student.email).json()["token"]
        anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = anon_client.get("/api/auth/me")
        assert response.status_code == 200
        assert response.json()["data"]["user"]["email"] == student.email

    def test_repeated_failures_are_throttled(self, anon_client, student, settings):
        statuses = [login(anon_client, student.email, "Wrong-Password-1").status_code for _ in range(11)]
        # The failure that reaches the account's limit (10) is answered with the lockout.
        assert statuses == [401] * 9 + [429] * 2
        body = login(anon_client, student.email).json()
        assert body == {
            "error": "Too many failed login attempts. Try again in 15 minutes.",
            "details": {"code": "login_locked_out"},
        }


class TestTokens:
    def test_refresh_issues_a_new_access_token(self, anon_client, student):
        refresh = login(anon_client, student.email).json()["refresh"]
        response = anon_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
        assert response.status_code == 200
        assert response.json()["token"]

    def test_garbage_refresh_token_is_401(self, anon_client):
        response = anon_client.post("/api/auth/refresh", {"refresh": "garbage"}, format="json")
        assert response.status_code == 401
        assert response.json()["error"]

    def test_refreshing_a_deleted_users_token_is_401_with_a_code(self, anon_client, student):
        refresh = login(anon_client, student.email).json()["refresh"]
        student.delete()
        response = anon_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
        assert response.status_code == 401
        body = response.json()
        assert body["error"] and body["details"]["code"] == "user_not_found"

    def test_refreshing_a_deactivated_users_token_is_401_with_a_code(self, anon_client, student):
        refresh = login(anon_client, student.email).json()["refresh"]
        student.is_active = False
        student.save(update_fields=["is_active"])
        response = anon_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")
        assert response.status_code == 401
        assert response.json()["details"]["code"] == "user_inactive"

    def test_a_blacklisted_or_garbage_refresh_token_says_token_not_valid(self, anon_client, student):
        assert anon_client.post("/api/auth/refresh", {"refresh": "x.y.z"}, format="json").json()["details"] == {
            "code": "token_not_valid"
        }
        refresh = login(anon_client, student.email).json()["refresh"]
        assert anon_client.post("/api/auth/refresh", {"refresh": refresh}, format="json").status_code == 200
        reused = anon_client.post("/api/auth/refresh", {"refresh": refresh}, format="json")  # rotated: blacklisted
        assert reused.status_code == 401 and reused.json()["details"]["code"] == "token_not_valid"

    def test_missing_refresh_token_is_400(self, anon_client):
        assert anon_client.post("/api/auth/refresh", {}, format="json").status_code == 400

    def test_logout_revokes_the_refresh_token(self, anon_client, student):
        tokens = login(anon_client, student.email).json()
        anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['token']}")
        response = anon_client.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json")
        assert response.status_code == 200
        anon_client.credentials()
        again = anon_client.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
        assert again.status_code == 401

    def test_cannot_revoke_another_users_refresh_token(self, anon_client, api_client, student, other_student):
        victim_refresh = login(anon_client, other_student.email).json()["refresh"]
        response = api_client(student).post("/api/auth/logout", {"refresh": victim_refresh}, format="json")
        assert response.status_code == 401
        still = anon_client.post("/api/auth/refresh", {"refresh": victim_refresh}, format="json")
        assert still.status_code == 200

    def test_logout_needs_authentication(self, anon_client):
        assert anon_client.post("/api/auth/logout", {"refresh": "x"}, format="json").status_code == 401

    def test_access_token_lifetime_defaults_to_seven_days(self, anon_client, student):
        import jwt

        token = login(anon_client, student.email).json()["token"]
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 7 * 24 * 3600

    def test_altered_token_is_rejected(self, api_client, anon_client, student):
        token = login(anon_client, student.email).json()["token"]
        header, payload, signature = token.split(".")
        tampered = f"{header}.{payload}.{signature[:-2]}AA"
        anon_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tampered}")
        assert anon_client.get("/api/auth/me").status_code == 401


class TestMeAndProfile:
    def test_me_needs_a_token(self, anon_client):
        response = anon_client.get("/api/auth/me")
        assert response.status_code == 401
        assert response.json()["error"]

    def test_update_profile_changes_contact_details(self, api_client, student):
        response = api_client(student).patch(
            "/api/auth/update-profile", {"phone": "+44 20 7946 0000", "department": "Maths"}, format="json"
        )
        assert response.status_code == 200
        student.refresh_from_db()
        assert student.phone == "+44 20 7946 0000"
        assert student.department == "Maths"

    @pytest.mark.parametrize(
        "forbidden",
        [{"role": "proctor"}, {"accommodations": {"extra_time_pct": 50}}, {"email": "new@x.org"}, {"is_staff": True}],
    )
    def test_update_profile_refuses_role_email_and_accommodations(self, api_client, student, forbidden):
        response = api_client(student).put("/api/auth/update-profile", forbidden, format="json")
        assert response.status_code == 400
        student.refresh_from_db()
        assert student.role == Role.STUDENT
        assert student.accommodations == {}
        assert not student.is_staff

    def test_put_of_the_whole_me_object_with_unchanged_email_and_role_is_accepted(self, api_client, student):
        client = api_client(student)
        user = client.get("/api/auth/me").json()["data"]["user"]
        # A client that round-trips the object, with the email in another case.
        body = {**user, "name": "Renamed Student", "email": user["email"].upper()}

        response = client.put("/api/auth/update-profile", body, format="json")

        assert response.status_code == 200, response.json()
        student.refresh_from_db()
        assert student.name == "Renamed Student"
        assert student.email == user["email"]

    @pytest.mark.parametrize(
        "changed",
        [{"email": "someone-else@example.org"}, {"role": "proctor"}, {"accommodations": {"extra_time_pct": 50}}],
    )
    def test_put_of_the_me_object_with_a_changed_read_only_field_is_refused(self, api_client, student, changed):
        client = api_client(student)
        user = client.get("/api/auth/me").json()["data"]["user"]

        response = client.put("/api/auth/update-profile", {**user, "name": "Renamed", **changed}, format="json")

        assert response.status_code == 400
        assert set(response.json()["details"]) == set(changed)
        student.refresh_from_db()
        assert student.name != "Renamed"
        assert student.role == Role.STUDENT
        assert student.accommodations == {}

    def test_update_profile_validates_types(self, api_client, student):
        response = api_client(student).patch("/api/auth/update-profile", {"semester": "x"}, format="json")
        assert response.status_code == 400
        assert "semester" in response.json()["details"]

    def test_proctor_can_read_own_profile(self, api_client):
        proctor = ProctorFactory()
        response = api_client(proctor).get("/api/auth/me/")
        assert response.json()["data"]["user"]["role"] == "proctor"
