from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_create_proctor_makes_a_staff_proctor_who_can_log_in(anon_client):
    call_command("create_proctor", email="Ada@Example.org", name="Ada", password="Analytical-Engine-1843")
    user = User.objects.get(email="ada@example.org")
    assert user.role == Role.PROCTOR
    assert user.is_staff
    response = anon_client.post(
        "/api/auth/login", {"email": "ada@example.org", "password": "Analytical-Engine-1843"}, format="json"
    )
    assert response.status_code == 200


def test_create_proctor_refuses_a_weak_password():
    with pytest.raises(CommandError, match=r"too short|too common"):
        call_command("create_proctor", email="b@example.org", name="B", password="abc")
    assert not User.objects.filter(email="b@example.org").exists()


def test_create_proctor_refuses_a_duplicate(proctor):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_proctor", email=proctor.email.upper(), name="X", password="Analytical-Engine-1843")
