"""Raise hand end to end: a student raises a hand on the demo exam page, the proctor's live dashboard
lists it, the proctor answers in its answer box, and the student's page shows the answer."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_demo_exam import open_exam_from_index
from tests.browser.test_proctor_console import log_in_as_proctor

pytestmark = pytest.mark.timeout(180)
STUDENT = "asha@exampulse.ai"


def test_student_raises_a_hand_and_reads_the_proctors_answer(server, browser, page, artifacts):
    [(exam_id,)] = server.query("SELECT id FROM exams WHERE is_calibration = 0 AND status = 'active' LIMIT 1")
    proctor_context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        console = proctor_context.new_page()
        log_in_as_proctor(console, server.url)
        console.goto(f"{server.url}/monitor/exam/{exam_id}/")
        expect(console.locator("#conn-text")).to_have_text("Live")

        open_exam_from_index(page, server, student=STUDENT, exam_id=exam_id)
        page.fill("#hand-message", "Is a calculator allowed?")
        page.click("#raise-hand")
        expect(page.locator("#hand-status")).to_contain_text("Your hand is raised")

        hand = console.locator("#hand-list .hand-item", has_text="Is a calculator allowed?")
        expect(hand).to_have_count(1)
        expect(console.locator("#hand-count")).to_have_text("1")
        console.screenshot(path=str(artifacts / "proctor-raised-hand.png"), full_page=True)
        hand.get_by_role("textbox", name=re.compile("Answer to")).fill("Yes, a basic one.")
        hand.get_by_role("button", name="Answer").click()

        expect(page.locator("#hand-status")).to_have_text("Proctor's answer: Yes, a basic one.")
        expect(console.locator("#hand-list .hand-item")).to_have_count(0)
        assert server.query("SELECT answer FROM raised_hands") == [("Yes, a basic one.",)]
        types = server.query(
            "SELECT event_type FROM events WHERE event_type IN ('hand_raised', 'hand_answered') ORDER BY id"
        )
        assert types == [("hand_raised",), ("hand_answered",)]
    finally:
        proctor_context.close()
