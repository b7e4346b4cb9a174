"""The proctor-actions room (monitoring.proctoring): domain errors, and services that return their pushes.

A service of the room never sends a push itself: it returns what its change implies, and its caller
hands that to the one sender (monitoring.pushes). Its refusals are domain errors, never the socket's
FrameError, so REST and the admin can map them as well as the socket.
"""

from __future__ import annotations

from unittest import mock

import pytest

from exampulse.errors import NotFound
from exams.services import session_start
from monitoring import pushes
from monitoring.ingest.activity import FrameError
from monitoring.models import Alert
from monitoring.proctoring import alerts, hands, timecontrol, warning
from tests.monitoring.conftest import make_exam

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_sending():
    """Fails the test if anything hands a push to the sender while it runs."""
    with (
        mock.patch.object(pushes, "send_after_commit", side_effect=AssertionError("a service sent a push")),
        mock.patch.object(pushes, "asend", side_effect=AssertionError("a service sent a push")),
    ):
        yield


def test_an_alert_out_of_reach_is_a_domain_not_found(proctor, no_sending):
    with pytest.raises(NotFound) as refused:
        alerts.alert_resolve(alert_id=424242, by=proctor)
    assert not isinstance(refused.value, FrameError)
    assert (refused.value.code, refused.value.status_code) == ("not_found", 404)


def test_resolving_returns_the_push_and_sends_nothing(proctor, student, no_sending):
    session = session_start(exam=make_exam(proctor), user=student)
    alert = Alert.objects.create(session=session, alert_type="risk_threshold", message="m", risk_score=0.8)
    resolved, outgoing = alerts.alert_resolve(alert_id=alert.pk, by=proctor, note="ok")
    assert resolved.resolved and [push.message["frame"]["event"] for push in outgoing] == ["alert_resolved"]


def test_the_warning_that_reaches_the_limit_is_returned_not_sent(proctor, student, no_sending):
    session = session_start(exam=make_exam(proctor, max_warnings=2), user=student)
    first = warning.proctor_warn(session=session, by=proctor, message="one")
    last = warning.proctor_warn(session=session, by=proctor, message="two")
    assert not first.limit_reached and last.limit_reached
    assert [push.message["frame"]["data"]["count"] for push in (*first.pushes, *last.pushes)] == [1, 2]
    session.refresh_from_db()
    assert session.is_open  # the caller ends it (warning_limit_terminate), after handing over the warning


def test_time_control_and_hands_return_their_pushes_and_send_nothing(proctor, student, no_sending):
    session = session_start(exam=make_exam(proctor), user=student)
    _session, outgoing = timecontrol.session_time_extend(session=session, by=proctor, minutes=5, reason="fire drill")
    assert [push.message["frame"]["event"] for push in outgoing] == ["time_extended", "time_extended"]
    hand, outgoing = hands.hand_raise(session=session, message="help")
    assert [push.message["frame"]["event"] for push in outgoing] == ["hand_raised"]
    _hand, outgoing = hands.hand_answer(hand=hand, by=proctor, message="coming")
    assert [push.message["frame"]["event"] for push in outgoing] == ["hand_answered", "hand_answered"]
