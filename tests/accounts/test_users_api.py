"""GET /api/users (proctors) and PUT/PATCH /api/users/<id>/accommodations (institution-wide: superusers
only), validated, audited."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from tests.factories import ProctorFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(db):
    return ProctorFactory(is_superuser=True)


def test_proctor_lists_students_only(api_client, proctor, student, other_student):
    response = api_client(proctor).get("/api/users/")
    assert response.status_code == 200
    emails = {user["email"] for user in response.json()["data"]}
    assert emails == {student.email, other_student.email}
    assert response.json()["count"] == 2


@pytest.mark.parametrize("field", ["name", "email", "roll_number"])
def test_proctor_searches_students_by_name_email_or_roll_number(api_client, proctor, field):
    wanted = StudentFactory(name="Zelda Quist", email="zq@uni.example", roll_number="CS-777")
    StudentFactory(name="Other Person")
    term = {"name": "quist", "email": "ZQ@uni", "roll_number": "cs-777"}[field]
    response = api_client(proctor).get(f"/api/users?search={term}")
    assert [user["id"] for user in response.json()["data"]] == [wanted.pk]


def test_put_replaces_the_accommodations_and_records_who_changed_what(api_client, boss, student):
    student.accommodations = {"extra_minutes": 5}
    student.save()
    body = {"extra_time_pct": 50, "exempt_signals": ["typing"], "note": "Dyslexia"}
    response = api_client(boss).put(f"/api/users/{student.pk}/accommodations", body, format="json")
    assert response.status_code == 200
    student.refresh_from_db()
    assert student.accommodations == body
    assert response.json()["data"]["user"]["accommodations"] == body
    entry = AuditEntry.objects.get(action="accommodations_update")
    assert entry.actor == boss and entry.target_id == str(student.pk)
    assert entry.details == {"level": "institution", "from": {"extra_minutes": 5}, "to": body, "via": "api"}


def test_a_proctor_cannot_set_institution_wide_accommodations(api_client, proctor, student):
    response = api_client(proctor).put(f"/api/users/{student.pk}/accommodations", {"extra_minutes": 120}, format="json")
    assert response.status_code == 403
    assert response.json()["details"]["code"] == "superuser_only"
    student.refresh_from_db()
    assert student.accommodations == {}
    assert not AuditEntry.objects.exists()


def test_patch_merges_into_the_accommodations(api_client, boss, student):
    student.accommodations = {"extra_minutes": 5}
    student.save()
    response = api_client(boss).patch(f"/api/users/{student.pk}/accommodations/", {"extra_time_pct": 10}, format="json")
    assert response.status_code == 200
    student.refresh_from_db()
    assert student.accommodations == {"extra_minutes": 5, "extra_time_pct": 10}


@pytest.mark.parametrize(
    "body",
    [
        {"extra_time_pct": "50"},
        {"extra_time_pct": -1},
        {"extra_time_pct": 401},
        {"extra_minutes": True},
        {"exempt_signals": ["telepathy"]},
        {"exempt_signals": "typing"},
        {"note": "x" * 1001},
        {"role": "proctor"},
        [1, 2],
    ],
)
def test_invalid_accommodations_get_a_400_and_change_nothing(api_client, boss, student, body):
    response = api_client(boss).put(f"/api/users/{student.pk}/accommodations", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]
    student.refresh_from_db()
    assert student.accommodations == {}
    assert not AuditEntry.objects.exists()


def test_accommodations_of_a_proctor_or_an_unknown_id_are_404(api_client, boss, proctor):
    client = api_client(boss)
    assert client.put(f"/api/users/{proctor.pk}/accommodations", {}, format="json").status_code == 404
    assert client.put("/api/users/999999/accommodations", {}, format="json").status_code == 404
    assert client.put(f"/api/users/{10**30}/accommodations", {}, format="json").status_code == 404


def test_a_student_cannot_set_their_own_accommodations_by_any_route(api_client, student):
    client = api_client(student)
    body = {"extra_time_pct": 100}
    assert client.put(f"/api/users/{student.pk}/accommodations", body, format="json").status_code == 403
    assert client.patch(f"/api/users/{student.pk}/accommodations", body, format="json").status_code == 403
    profile = client.patch("/api/auth/update-profile", {"accommodations": body}, format="json")
    assert profile.status_code == 400
    student.refresh_from_db()
    assert student.accommodations == {}
