"""monitoring.pushes: the one sender delivers after commit, in order, and never for a rolled-back change."""

from __future__ import annotations

import pytest
from django.db import transaction

from monitoring import pushes


@pytest.fixture
def sent(monkeypatch) -> list[tuple[str, dict, bool]]:
    record: list[tuple[str, dict, bool]] = []

    async def agroup_send(group, message, *, from_outbox=False):
        record.append((group, message, from_outbox))

    monkeypatch.setattr(pushes, "agroup_send", agroup_send)
    return record


def _push(n: int) -> pushes.Push:
    return pushes.student_left(exam_id=7, user_id=n)


@pytest.mark.django_db
def test_send_after_commit_sends_in_order_only_once_committed(sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pushes.send_after_commit([_push(1), _push(2)])
        assert sent == []
    # Consecutive pushes to one group leave as one channel-layer message, in order.
    [(group, message, _from_outbox)] = sent
    assert group == "exam.7.proctors"
    assert message["type"] == pushes.BATCH and message["group"] == group
    assert [item["frame"]["data"]["user_id"] for item in message["messages"]] == [1, 2]
    assert all(item["type"] == pushes.PUSH for item in message["messages"])


async def test_asend_merges_only_consecutive_pushes_to_one_group_and_never_reorders(sent):
    other = pushes.student_left(exam_id=8, user_id=9)
    await pushes.asend([_push(1), _push(2), other, _push(3)], from_outbox=True)
    assert [(group, message["type"]) for group, message, _ in sent] == [
        ("exam.7.proctors", pushes.BATCH),
        ("exam.8.proctors", pushes.PUSH),
        ("exam.7.proctors", pushes.PUSH),
    ]
    assert [item["frame"]["data"]["user_id"] for item in sent[0][1]["messages"]] == [1, 2]
    assert sent[1][1]["frame"]["data"]["user_id"] == 9 and sent[2][1]["frame"]["data"]["user_id"] == 3
    assert all(message["group"] == group and from_outbox for group, message, from_outbox in sent)


@pytest.mark.django_db
def test_a_rolled_back_change_sends_nothing(sent, django_capture_on_commit_callbacks):
    def change_that_fails() -> None:
        with transaction.atomic():
            pushes.send_after_commit([_push(1)])
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        change_that_fails()
    assert callbacks == []
    assert sent == []


def test_session_terminated_closes_the_students_sockets_and_tells_the_proctors():
    class Session:
        pk, exam_id, user_id, status, termination_reason_code = 3, 7, 11, "terminated", "phone_use"

    class Proctor:
        pk = 5

    to_student, to_proctors = pushes.session_terminated(Session(), by=Proctor(), reason="phone")
    assert to_student.group == "session.3.student"
    assert to_student.message["type"] == pushes.CLOSE and to_student.message["code"] == pushes.CLOSE_TERMINATED
    assert to_proctors.group == "exam.7.proctors"
    assert to_proctors.message["frame"] == {
        "event": "session_terminated",
        "data": {
            "session_id": 3,
            "exam_id": 7,
            "reason": "phone",
            "reason_code": "phone_use",
            "user_id": 11,
            "by": 5,
            "status": "terminated",
        },
    }
    assert to_student.message["frame"]["data"]["reason_code"] == "phone_use"
