"""Pause and resume end to end: the proctor clicks Pause on the live dashboard, the student's demo page
shows "Paused by the proctor: <reason>" and holds its events; Resume lifts the overlay and sends them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_proctor_console import DEMO_EXAM, log_in_as_proctor

pytestmark = pytest.mark.timeout(180)

STUDENT = "asha@exampulse.ai"
LEAVE_TAB = """() => {
    Object.defineProperty(document, "visibilityState", {value: "hidden", configurable: true});
    Object.defineProperty(document, "hidden", {value: true, configurable: true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_the_proctor_pauses_and_resumes_a_students_exam(server, browser, page, artifacts):
    [(exam_id,)] = server.query("SELECT id FROM exams WHERE name = ?", (DEMO_EXAM,))
    log_in_as_proctor(page, server.url)
    page.goto(f"{server.url}/monitor/exam/{exam_id}/")
    expect(page.locator("#conn-text")).to_have_text("Live")

    student_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        student = student_context.new_page()
        student.goto(f"{server.url}/demo/exam/{exam_id}/?student={STUDENT}")
        student.wait_for_selector("body[data-connection=online]", timeout=20_000)

        row = page.locator("#student-rows tr", has_text="Asha Verma")
        expect(row).to_have_count(1)
        row.get_by_role("button", name="Pause the exam of Asha Verma").click()
        page.locator("#pause-reason").fill("Fire alarm in the building")
        page.locator("#pause-dialog").get_by_role("button", name="Pause").click()

        overlay = student.locator("#paused")
        expect(overlay).to_be_visible()
        expect(overlay).to_contain_text("Paused by the proctor: Fire alarm in the building")
        expect(row.get_by_role("button", name="Resume the exam of Asha Verma")).to_be_visible()
        expect(student.locator("#submit")).to_be_disabled()

        # An event made while paused is held by the page, not sent (the server would refuse it).
        student.evaluate(LEAVE_TAB)
        expect(student.locator("#pending")).not_to_have_text("0")
        student.screenshot(path=str(artifacts / "time-control-paused.png"))

        row.get_by_role("button", name="Resume the exam of Asha Verma").click()
        expect(overlay).to_be_hidden()
        expect(student.locator("#pending")).to_have_text("0", timeout=15_000)
        expect(row.get_by_role("button", name="Pause the exam of Asha Verma")).to_be_visible()
        [(paused_at, paused_seconds)] = server.query(
            "SELECT paused_at, paused_seconds FROM exam_sessions s JOIN users u ON u.id = s.user_id "
            "WHERE u.email = ? AND s.exam_id = ?",
            (STUDENT, exam_id),
        )
        assert paused_at is None and paused_seconds >= 0
        types = [
            t
            for (t,) in server.query(
                "SELECT e.event_type FROM events e JOIN exam_sessions s ON s.id = e.session_id "
                "JOIN users u ON u.id = s.user_id WHERE u.email = ? AND s.exam_id = ? ORDER BY e.id",
                (STUDENT, exam_id),
            )
        ]
        assert types.index("session_paused") < types.index("session_resumed") < types.index("tab_switch"), types
    finally:
        student_context.close()
