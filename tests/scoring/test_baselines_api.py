"""/api/baselines/: self-reported samples, reads, superuser reset; who may do what."""

from __future__ import annotations

import pytest

from accounts.models import AuditEntry
from exams.models import ExamSession
from exams.sessions import session_start
from scoring.models import Baseline, BaselineSample
from scoring.services import baseline_add_sample
from tests.exams.conftest import make_exam
from tests.factories import ProctorFactory

pytestmark = pytest.mark.django_db

SAMPLE = {"typing_speed_wpm": 42.0, "mouse_speed_pxs": 250.0, "avg_question_time_sec": 60.0, "key_hold_ms": 95.0}


@pytest.mark.parametrize("path", ["/api/baselines/", "/api/baselines"])
def test_student_adds_samples_and_baseline_becomes_ready(api_client, student, path):
    client = api_client(student)
    bodies = [client.post(path, {**SAMPLE, "typing_speed_wpm": wpm}, format="json") for wpm in (40.0, 50.0, 60.0)]
    assert [b.status_code for b in bodies] == [201, 201, 201]
    assert [b.json()["data"]["status"] for b in bodies] == ["collecting", "collecting", "ready"]
    data = bodies[-1].json()["data"]
    assert data["typing_speed_wpm"] == pytest.approx(50.0)
    assert data["key_hold_ms"] == pytest.approx(95.0)
    baseline = Baseline.objects.get(user=student)
    assert baseline.sample_count == 3
    assert len(baseline.features["samples"]) == 3
    assert client.get(path).json()["data"]["sample_count"] == 3


def test_student_without_baseline_reads_status_missing(api_client, student):
    response = api_client(student).get("/api/baselines/")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "missing"
    assert response.json()["data"]["user_id"] == student.pk


@pytest.mark.parametrize(
    "body",
    [
        {"typing_speed_wpm": -5},
        {"typing_speed_wpm": 10_000},
        {"typing_speed_wpm": "fast"},
        {"key_hold_ms": 1},
        {},
        {"tab_switch_rate": 2},
        {"typing_speed_wpm": 40, "user_id": 99},
        [1, 2, 3],
        "just text",
    ],
)
def test_bad_samples_are_refused_with_a_clear_400(api_client, student, body):
    response = api_client(student).post("/api/baselines/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Baseline.objects.filter(user=student).exists()


def test_malformed_json_is_a_400(api_client, student):
    response = api_client(student).post("/api/baselines/", "{nope", content_type="application/json")
    assert response.status_code == 400


def test_proctor_cannot_post_a_sample_for_themselves(api_client, proctor):
    assert api_client(proctor).post("/api/baselines/", SAMPLE, format="json").status_code == 403
    assert not Baseline.objects.exists()


def test_anonymous_gets_401_everywhere(anon_client, student):
    assert anon_client.get("/api/baselines/").status_code == 401
    assert anon_client.post("/api/baselines/", SAMPLE, format="json").status_code == 401
    assert anon_client.get(f"/api/baselines/{student.pk}").status_code == 401
    assert anon_client.post(f"/api/baselines/{student.pk}/reset").status_code == 401


def test_a_proctor_reads_the_baseline_of_a_student_they_examine(api_client, proctor, student):
    baseline_add_sample(user=student, sample=SAMPLE)
    session_start(exam=make_exam(proctor), user=student)
    for path in (f"/api/baselines/{student.pk}", f"/api/baselines/{student.pk}/"):
        response = api_client(proctor).get(path)
        assert response.status_code == 200
        assert response.json()["data"]["typing_speed_wpm"] == 42.0
        assert response.json()["data"]["status"] == "collecting"


def test_a_proctor_who_never_examined_the_student_gets_404(api_client, proctor, student):
    baseline_add_sample(user=student, sample=SAMPLE)
    assert api_client(proctor).get(f"/api/baselines/{student.pk}").status_code == 404
    assert api_client(ProctorFactory(is_superuser=True)).get(f"/api/baselines/{student.pk}").status_code == 200


def test_unknown_user_is_404_for_proctors_and_reset_is_403_before_any_lookup(api_client, proctor):
    assert api_client(proctor).get("/api/baselines/999999").status_code == 404
    assert api_client(proctor).post("/api/baselines/999999/reset").status_code == 403
    assert api_client(proctor).get("/api/baselines/99999999999999999").status_code == 404
    assert api_client(ProctorFactory(is_superuser=True)).post("/api/baselines/999999/reset").status_code == 404


def test_students_cannot_read_or_reset_by_user_id_even_their_own(api_client, student, other_student):
    baseline_add_sample(user=other_student, sample=SAMPLE)
    client = api_client(student)
    assert client.get(f"/api/baselines/{other_student.pk}").status_code == 403
    assert client.get(f"/api/baselines/{student.pk}").status_code == 403
    assert client.post(f"/api/baselines/{other_student.pk}/reset").status_code == 403
    assert Baseline.objects.get(user=other_student).sample_count == 1


def test_other_students_samples_never_show_in_my_baseline(api_client, student, other_student):
    baseline_add_sample(user=other_student, sample=SAMPLE)
    data = api_client(student).get("/api/baselines/").json()["data"]
    assert data["status"] == "missing"
    assert data["typing_speed_wpm"] is None


def test_a_superuser_reset_clears_the_baseline_keeps_the_samples_and_is_audited(api_client, proctor, student):
    for _ in range(3):
        baseline_add_sample(user=student, sample=SAMPLE)
    session_start(exam=make_exam(proctor), user=student)
    refused = api_client(proctor).post(f"/api/baselines/{student.pk}/reset")
    assert refused.status_code == 403 and refused.json()["details"]["code"] == "superuser_only"
    ExamSession.objects.update(status="submitted")
    boss = ProctorFactory(is_superuser=True)

    response = api_client(boss).post(f"/api/baselines/{student.pk}/reset", {"reason": "new keyboard"}, format="json")

    assert response.status_code == 200
    assert response.json()["data"]["status"] == "reset"
    baseline = Baseline.objects.get(user=student)
    assert baseline.sample_count == 0
    assert baseline.typing_speed_wpm is None
    assert BaselineSample.objects.filter(user=student, discarded_at__isnull=False).count() == 3
    entry = AuditEntry.objects.get(action="baseline_reset")
    assert entry.actor == boss
    assert entry.target_id == str(baseline.pk)
    assert entry.details["samples_discarded"] == 3 and entry.details["reason"] == "new keyboard"
    assert entry.details["before"]["sample_count"] == 3
    assert entry.details["before"]["means"]["typing_speed_wpm"] == 42.0
    # Collecting starts again from scratch.
    again = api_client(student).post("/api/baselines/", SAMPLE, format="json")
    assert again.json()["data"]["status"] == "collecting"
    assert again.json()["data"]["sample_count"] == 1


def test_reset_of_a_student_without_baseline_is_404(api_client, student):
    boss = ProctorFactory(is_superuser=True)
    assert api_client(boss).post(f"/api/baselines/{student.pk}/reset").status_code == 404
    assert not AuditEntry.objects.filter(action="baseline_reset").exists()
