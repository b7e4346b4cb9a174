"""The demo exam page end to end: Chromium runs exampulse-client.js against a live daphne.

What the page's client generated is compared with what the server stored (exactly once each)
and with what a proctor's socket was told (one student_activity per stored event).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from websockets.sync.client import connect

from tests.support.live import live_server, make_seed_steps

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def server(tmp_path_factory, seed_cache):
    """One server seeded as `make run` seeds it (past sessions included): each test takes its exam as a
    different demo student, which works only because the seeded history leaves the open exams untaken."""
    with live_server(tmp_path_factory.mktemp("demo"), seed=make_seed_steps(), seeds=seed_cache) as running:
        yield running


# Headless Chromium reports every page as visible and focused whatever tab is in front, so the
# test plays the browser's part of a tab switch: the page becomes hidden and its window loses focus.
LEAVE_TAB = """() => {
    Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
    Object.defineProperty(document, "hidden", {value: true, configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new FocusEvent("blur"));
}"""
RETURN_TO_TAB = """() => {
    Object.defineProperty(document, "visibilityState", {value: "visible", configurable: true});
    Object.defineProperty(document, "hidden", {value: false, configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
    window.dispatchEvent(new FocusEvent("focus"));
}"""


# What the page's client knows, for a failure message.
CLIENT_STATE = (
    "JSON.stringify({state: c.state, stats: c.stats, pending: c.buffer.entries.map(e => [e.body.type, e.inflight]),"
    " errors: window.examDemo.errors, online: navigator.onLine})"
)


def wait_until(condition: Callable[[], object], *, timeout: float = 20, what: str = "condition", debug=None) -> object:
    """Poll until condition() is truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}" + (f": {debug()}" if debug else ""))


def login(server, email: str, password: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        f"{server.url}/api/auth/login",
        data=json.dumps({"email": email, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback test server
        return json.load(response)["token"]


class ProctorSocket:
    """A proctor's /ws/exam/ connection that records every frame on a reader thread."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.frames: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        try:
            for message in self.ws:
                self.frames.append(json.loads(message))
        except Exception:  # noqa: S110 - the socket closing ends the reader
            pass

    def send(self, event: str, **data) -> None:
        self.ws.send(json.dumps({"event": event, "data": data}))

    def seen(self, event: str) -> list[dict]:
        return [frame["data"] for frame in list(self.frames) if frame["event"] == event]


@contextmanager
def proctor_socket(server, exam_id: int) -> Iterator[ProctorSocket]:
    """The demo proctor, logged in over REST, watching one exam over /ws/exam/."""
    token = login(server, "proctor@exampulse.ai", "password123")
    with connect(f"ws://127.0.0.1:{server.port}/ws/exam/?token={token}", open_timeout=10) as ws:
        proctor = ProctorSocket(ws)
        proctor.send("join_exam", exam_id=exam_id)
        wait_until(lambda: proctor.seen("joined_exam"), what="the proctor's joined_exam")
        yield proctor
    proctor.reader.join(timeout=5)


def exam_id_of(server, *, calibration: bool) -> int:
    # Only the open exams: the seeded past exams are closed and not on the demo page.
    return server.query("SELECT id FROM exams WHERE is_calibration = ? AND status = 'active'", (int(calibration),))[0][
        0
    ]


def session_of(server, email: str, exam_id: int) -> int:
    rows = server.query(
        "SELECT s.id FROM exam_sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ? AND s.exam_id = ?",
        (email, exam_id),
    )
    return rows[0][0]


def stored_ids(server, session_id: int) -> list[str]:
    rows = server.query(
        "SELECT client_event_id FROM events WHERE session_id = ? AND client_event_id IS NOT NULL", (session_id,)
    )
    return [row[0] for row in rows]


def client_value(page, expression: str):
    return page.evaluate(f"() => {{ const c = window.examDemo.client; return {expression}; }}")


def open_exam_from_index(page, server, *, student: str, exam_id: int) -> None:
    page.goto(f"{server.url}/demo/")
    page.check(f"input[name=student][value='{student}']")
    page.click(f"a.take-exam[data-exam-id='{exam_id}']")
    page.wait_for_url(f"**/demo/exam/{exam_id}/?student=*")
    page.wait_for_selector("body[data-connection=online]", timeout=20_000)


def switch_tab_and_back(page, *, away_seconds: float = 0.5) -> None:
    page.evaluate(LEAVE_TAB)
    time.sleep(away_seconds)
    page.evaluate(RETURN_TO_TAB)


def test_demo_exam_delivers_every_event_exactly_once_across_going_offline(server, page, artifacts):
    exam_id = exam_id_of(server, calibration=False)
    with proctor_socket(server, exam_id) as proctor:
        page.goto(f"{server.url}/demo/")
        assert page.locator(".exam-card").count() == 2
        page.screenshot(path=str(artifacts / "demo-index.png"), full_page=True)
        open_exam_from_index(page, server, student="asha@exampulse.ai", exam_id=exam_id)
        session_id = session_of(server, "asha@exampulse.ai", exam_id)
        assert page.locator("#timer").inner_text() not in ("", "--:--")
        assert "Rayleigh" not in page.content(), "the page must never carry an answer key"

        page.click("label.option:has-text('56')")
        page.click("#next")
        page.click("label.option:has-text('11')")
        page.click("button.nav-pill:has-text('5')")
        page.click("textarea")
        page.keyboard.type("Shorter blue wavelengths scatter more in air.", delay=70)
        page.mouse.move(200, 200)
        page.mouse.move(700, 600, steps=25)
        page.click("#question-text")  # leaving the textarea commits the answer: question_answered
        wait_until(
            lambda: (
                {"typing_sample", "mouse_sample", "question_answered"}
                <= {row[0] for row in server.query("SELECT event_type FROM events WHERE session_id = ?", (session_id,))}
            ),
            what="typing, mouse and question events stored",
        )
        switch_tab_and_back(page)
        page.click("#question-text", button="right")

        # Offline: the client drops its socket (the server notes the disconnect) and buffers.
        page.context.set_offline(True)
        page.wait_for_selector("body[data-connection=offline]")
        wait_until(
            lambda: server.query(
                "SELECT count(*) FROM events WHERE session_id = ? AND event_type = 'disconnected'", (session_id,)
            )[0][0],
            what="the server to see the socket go",
        )
        generated_before = len(client_value(page, "c.generated"))
        switch_tab_and_back(page)
        page.click("#question-text", button="right")
        page.click("textarea")
        page.keyboard.type(" It is called Rayleigh scattering.", delay=70)
        page.click("#question-text")
        wait_until(
            lambda: (
                {"tab_switch", "window_blur", "window_focus", "right_click", "question_answered"}
                <= set(client_value(page, "c.buffer.entries.map(e => e.body.type)"))
                and client_value(page, "c.buffer.entries.map(e => e.body.type)")
            ),
            what="events generated while offline",
            debug=lambda: client_value(page, CLIENT_STATE),
        )
        offline_ids = client_value(page, "c.generated")[generated_before:]
        assert len(offline_ids) >= 5
        buffered = json.loads(page.evaluate("() => localStorage.getItem(window.examDemo.client.storageKey)"))
        assert set(offline_ids) <= {entry["id"] for entry in buffered}, "offline events are persisted in storage"
        assert not set(offline_ids) & set(stored_ids(server, session_id)), "nothing reached the server while offline"
        assert page.locator("#pending").inner_text() != "0"

        page.context.set_offline(False)
        wait_until(
            lambda: client_value(page, "c.state") == "online",
            what="the client to rejoin",
            debug=lambda: client_value(page, CLIENT_STATE),
        )
        wait_until(
            lambda: client_value(page, "c.pendingCount()") == 0,
            what="the buffer to drain",
            debug=lambda: client_value(page, CLIENT_STATE),
        )
        assert set(offline_ids) <= set(stored_ids(server, session_id))
        assert server.query(
            "SELECT count(*) FROM events WHERE session_id = ? AND event_type = 'reconnected'", (session_id,)
        ) == [(1,)]

        proctor.send("warn_student", session_id=session_id, message="Please keep this tab in front.")
        page.wait_for_selector(".warning-message:has-text('Please keep this tab in front.')")
        page.screenshot(path=str(artifacts / "demo-exam.png"), full_page=True)

        page.click("#submit")
        page.wait_for_selector("#result:has-text('Exam submitted')")
        assert server.query("SELECT status FROM exam_sessions WHERE id = ?", (session_id,)) == [("submitted",)]

        generated = client_value(page, "c.generated")
        rows = stored_ids(server, session_id)
        assert len(rows) == len(set(rows)), "an event was stored twice"
        assert sorted(rows) == sorted(generated), "every generated event is stored, and nothing else"
        types = {row[0] for row in server.query("SELECT event_type FROM events WHERE session_id = ?", (session_id,))}
        assert {"tab_switch", "window_blur", "window_focus", "right_click", "typing_sample", "mouse_sample"} <= types

        event_ids = {
            row[0]
            for row in server.query(
                "SELECT id FROM events WHERE session_id = ? AND client_event_id IS NOT NULL", (session_id,)
            )
        }
        wait_until(
            lambda: event_ids <= {frame["event_id"] for frame in proctor.seen("student_activity")},
            what="the proctor to see every stored event",
        )
        pushed = [frame["event_id"] for frame in proctor.seen("student_activity") if frame["event_id"] in event_ids]
        assert len(pushed) == len(event_ids), "each event reached the proctor once"


def test_calibration_exam_turns_browser_behaviour_into_a_baseline_sample(server, page, artifacts):
    exam_id = exam_id_of(server, calibration=True)
    (before,) = server.query(
        "SELECT b.sample_count FROM baselines b JOIN users u ON u.id = b.user_id WHERE u.email = ?",
        ("chen@exampulse.ai",),
    )[0]
    open_exam_from_index(page, server, student="chen@exampulse.ai", exam_id=exam_id)
    assert page.locator(".calibration-note").is_visible()
    session_id = session_of(server, "chen@exampulse.ai", exam_id)

    page.click("label.option:has-text('Green')")
    page.click("#next")
    page.click("textarea")
    page.keyboard.type("I woke early and made tea. Then I read the news.", delay=60)
    page.mouse.move(100, 150)
    page.mouse.move(800, 500, steps=30)
    page.click("#question-text")
    wait_until(
        lambda: (
            {"typing_sample", "mouse_sample"}
            <= {row[0] for row in server.query("SELECT event_type FROM events WHERE session_id = ?", (session_id,))}
        ),
        what="typing and mouse samples stored",
    )
    page.click("#submit")
    page.wait_for_selector("#baseline-summary:visible")
    page.screenshot(path=str(artifacts / "demo-calibration-result.png"), full_page=True)

    (count,) = server.query(
        "SELECT b.sample_count FROM baselines b JOIN users u ON u.id = b.user_id WHERE u.email = ?",
        ("chen@exampulse.ai",),
    )[0]
    columns = ("typing_speed_wpm", "mouse_speed_pxs", "avg_question_time_sec", "key_hold_ms", "key_latency_ms")
    rows = server.query(
        "SELECT calibration_session_id, typing_speed_wpm, mouse_speed_pxs, avg_question_time_sec, key_hold_ms,"
        " key_latency_ms FROM baseline_samples s JOIN users u ON u.id = s.user_id"
        " WHERE u.email = ? AND s.source = 'calibration'",
        ("chen@exampulse.ai",),
    )
    # The sitting's measurement windows make one to three samples (scoring.calibration), all from this session.
    assert 1 <= len(rows) <= 3 and count == before + len(rows)
    assert {row[0] for row in rows} == {session_id}
    measured = {name for row in rows for name, value in zip(columns, row[1:], strict=True) if value is not None}
    # Measured in the browser: the seeded samples carry no key timing at all.
    assert set(columns) <= measured
    assert all(5 < row[1] < 400 for row in rows if row[1] is not None)
    assert f"{count} samples" in page.locator("#baseline-summary").inner_text()


def test_termination_by_the_proctor_ends_the_page_without_reconnecting(server, page):
    exam_id = exam_id_of(server, calibration=False)
    with proctor_socket(server, exam_id) as proctor:
        open_exam_from_index(page, server, student="dana@exampulse.ai", exam_id=exam_id)
        session_id = session_of(server, "dana@exampulse.ai", exam_id)
        proctor.send(
            "terminate_session",
            session_id=session_id,
            reason="Second person in the room",
            reason_code="unauthorised_person",
        )
        page.wait_for_selector("#terminated:has-text('Second person in the room')")
        assert page.locator("#connection").inner_text() == "terminated"
        assert server.query("SELECT status FROM exam_sessions WHERE id = ?", (session_id,)) == [("flagged",)]
        page.click("#terminated-title", button="right")  # after the end nothing is recorded
        assert client_value(page, "c.ws === null && c.timers.reconnect === undefined")
        assert server.query(
            "SELECT count(*) FROM events WHERE session_id = ? AND event_type = 'right_click'", (session_id,)
        ) == [(0,)]
