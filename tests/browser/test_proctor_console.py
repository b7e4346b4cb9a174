"""The proctor console end to end: a proctor watches the live page while a student (driven from this
test over a real WebSocket) misbehaves; the alert appears, the proctor resolves it and warns the
student with clicks, and the admin session page shows the timeline and the risk chart. The live
page also survives a server restart: it reconnects with backoff and resynchronises.
"""

from __future__ import annotations

import json
import re
import urllib.request
from urllib.parse import quote

from playwright.sync_api import expect
from websockets.sync.client import connect

from monitoring.frame_types import check_frame

DEMO_EXAM = "Demo: General Science Quiz"
PROCTOR = ("proctor@exampulse.ai", "password123")
STUDENT = ("asha@exampulse.ai", "student123")
# Asha's baseline: ~52 wpm, ~48 s per question. These cross the medium-sensitivity threshold (0.7):
# 11 tab switches (0.3) + 130 s away (0.135) + 200 wpm (0.18) + a 2 s answer (0.16) = 0.775, level high.
MISCONDUCT = [
    *({"type": "tab_switch"} for _ in range(11)),
    {"type": "window_focus", "blur_duration_ms": 130_000},
    {"type": "typing_sample", "wpm": 200},
    {"type": "question_answered", "question_id": "q1", "time_spent_sec": 2},
]


def api(base: str, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - our own loopback server
        f"{base}{path}",
        method=method,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def receive_until(socket, name: str, limit: int = 50) -> dict:
    for _ in range(limit):
        message = json.loads(socket.recv(timeout=10))
        check_frame(message)
        if message["event"] == name:
            return message["data"]
    raise AssertionError(f"no {name} frame")


def log_in_as_proctor(page, base: str) -> None:
    page.goto(f"{base}/admin/login/?next=/monitor/")
    page.get_by_label("Email").fill(PROCTOR[0])
    page.get_by_label("Password").fill(PROCTOR[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/monitor/")


def test_proctor_watches_resolves_and_reviews_a_live_alert(server, page, artifacts):
    [(exam_id,)] = server.query("SELECT id FROM exams WHERE name = ?", (DEMO_EXAM,))
    [(proctor_id,)] = server.query("SELECT id FROM users WHERE email = ?", (PROCTOR[0],))

    log_in_as_proctor(page, server.url)
    expect(page.get_by_role("row", name=re.compile(DEMO_EXAM))).to_be_visible()
    page.get_by_role("link", name=f"Watch {DEMO_EXAM} live").click()
    page.wait_for_url(re.compile(rf"/monitor/exam/{exam_id}/?$"))
    expect(page.locator("#conn-text")).to_have_text("Live")

    token = api(server.url, "POST", "/api/auth/login", {"email": STUDENT[0], "password": STUDENT[1]})["token"]
    session_id = api(server.url, "POST", f"/api/exams/{exam_id}/start", token=token)["data"]["id"]
    ws_url = server.daphne.ws_url + f"?token={quote(token)}"
    with connect(ws_url, open_timeout=10) as student:
        receive_until(student, "connected")
        student.send(json.dumps({"event": "join_exam", "data": {"exam_id": exam_id}}))
        assert receive_until(student, "joined_exam")["session_id"] == session_id

        rows = page.locator("#student-rows tr")
        expect(rows.filter(has_text="Asha Verma")).to_have_count(1)

        for index, activity in enumerate(MISCONDUCT):
            frame = {"exam_id": exam_id, "client_event_id": f"browser-{index}", **activity}
            student.send(json.dumps({"event": "suspicious_activity", "data": frame}))
            receive_until(student, "activity_logged")

        asha = rows.filter(has_text="Asha Verma")
        expect(asha).to_contain_text("answered a question")
        expect(asha.locator(".risk")).to_have_text(re.compile(r"High · 0\.7\d"))
        # The rule threshold alert; the per-student anomaly detector may raise a second one.
        alert = page.locator(".alert-item", has_text=re.compile(r"Asha Verma.*Risk 0\.7\d \(high\)", re.S))
        expect(alert).to_have_count(1)
        expect(alert).to_contain_text("New")
        alerts_stored = server.query("SELECT count(*) FROM alerts WHERE session_id = ?", (session_id,))[0][0]
        expect(page.locator("#alert-count")).to_have_text(str(alerts_stored))
        page.screenshot(path=str(artifacts / "proctor-live-dashboard.png"), full_page=True)

        [(alert_id, resolved)] = server.query(
            "SELECT id, resolved FROM alerts WHERE session_id = ? AND alert_type = 'risk_threshold'", (session_id,)
        )
        assert resolved == 0

        alert.get_by_role("button", name="Resolve the alert for Asha Verma").click()
        page.get_by_label("Note (optional)").fill("Spoke to the student; a noisy room.")
        page.get_by_role("button", name="Resolve alert").click()
        expect(alert).to_contain_text("Resolved by Demo Proctor: Spoke to the student; a noisy room.")
        expect(page.locator("#alert-count")).to_have_text(str(alerts_stored - 1))

        asha.get_by_role("button", name="Warn Asha Verma").click()
        page.get_by_label("Message shown to the student").fill("Please stay on the exam tab.")
        page.get_by_role("button", name="Send warning").click()
        assert receive_until(student, "proctor_warning")["message"] == "Please stay on the exam tab."

    assert server.query("SELECT resolved, resolved_by_id, resolution_note FROM alerts WHERE id = ?", (alert_id,)) == [
        (1, proctor_id, "Spoke to the student; a noisy room.")
    ]
    assert server.query(
        "SELECT count(*) FROM audit_entries WHERE action = 'alert_resolve' AND actor_id = ? AND target_id = ?",
        (proctor_id, str(alert_id)),
    ) == [(1,)]
    assert server.query(
        "SELECT count(*) FROM events WHERE session_id = ? AND event_type = 'proctor_warning'", (session_id,)
    ) == [(1,)]

    page.goto(f"{server.url}/admin/exams/examsession/{session_id}/change/")
    chart = page.locator("svg.risk-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("circle.alert-marker")).to_have_count(alerts_stored)
    expect(chart.locator("desc")).to_contain_text(f"{alerts_stored} alert")
    expect(page.locator("#alerts")).to_contain_text("Resolved by Demo Proctor")
    expect(page.locator("#timeline")).to_contain_text("Answered q1")
    expect(page.locator("#timeline")).to_contain_text("Started the exam")
    expect(page.locator(".components")).to_contain_text("Tab switches")
    page.screenshot(path=str(artifacts / "proctor-admin-session.png"), full_page=True)


def test_live_page_reconnects_after_a_server_restart_and_resynchronises(server, page):
    [(exam_id,)] = server.query("SELECT id FROM exams WHERE name = ?", (DEMO_EXAM,))
    status = page.locator("#conn-text")
    # A second server on the same database that this test stops and starts again on the same port.
    with server.sibling() as restarted:
        log_in_as_proctor(page, restarted.url)
        page.goto(f"{restarted.url}/monitor/exam/{exam_id}/")
        expect(status).to_have_text("Live")
        restarted.stop()
        expect(status).to_contain_text("Connection lost. Retrying in")

        token = api(server.url, "POST", "/api/auth/login", {"email": STUDENT[0], "password": STUDENT[1]})["token"]
        api(server.url, "POST", f"/api/exams/{exam_id}/start", token=token)
        restarted.start()
        expect(status).to_have_text("Live", timeout=45_000)
        expect(page.locator(".toast", has_text="Reconnected and resynchronised.")).to_have_count(1)
        ws_url = restarted.ws_url + f"?token={quote(token)}"
        with connect(ws_url, open_timeout=10) as student:
            receive_until(student, "connected")
            student.send(json.dumps({"event": "join_exam", "data": {"exam_id": exam_id}}))
            receive_until(student, "joined_exam")
            expect(page.locator("#student-rows tr", has_text="Asha Verma")).to_have_count(1)
