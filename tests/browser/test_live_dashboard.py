"""The live dashboard as a proctor meets it, at 1280 and 1920 px: every student's actions inside the
window and clickable (no table cut off by its box), "Last activity" on at most two lines, the row of a
student who reconnects complete without "Refresh list", alert cards naming the risk they were raised at
and the student's risk now, and a raised hand that reads as a hand rather than an error."""

from __future__ import annotations

import json
import re
from contextlib import ExitStack
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from websockets.sync.client import connect

from tests.browser.test_proctor_console import DEMO_EXAM, api, log_in_as_proctor, receive_until

pytestmark = pytest.mark.timeout(180)

PASSWORD = "student123"
ASHA, BEN = "asha@exampulse.ai", "ben@exampulse.ai"
ACTIONS = [
    ("link", "Review the session of {}"),
    ("button", "Warn {}"),
    ("button", "Give {} extra time"),
    ("button", "Pause the exam of {}"),
    ("button", "Reset the attempt of {}"),
    ("button", "Terminate the session of {}"),
]
# Per row: the table against the box it sits in, and each action against that box and the window.
GEOMETRY = """() => {
    const table = document.getElementById("students");
    const box = table.parentElement.getBoundingClientRect();
    const rows = [...document.querySelectorAll("#student-rows tr")].map((tr) => ({
        name: tr.querySelector("th .name").textContent,
        actions: [...tr.querySelectorAll("td.actions button, td.actions a")].map((node) => {
            const r = node.getBoundingClientRect();
            return {label: node.getAttribute("aria-label"), left: r.left, right: r.right};
        }),
    }));
    return {table: table.getBoundingClientRect().width, box: table.parentElement.clientWidth,
            boxLeft: box.left, boxRight: box.right, window: window.innerWidth, rows};
}"""
# The number of line boxes the text of an element takes.
TEXT_LINES = """(element) => {
    const tops = new Set();
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) if (rect.width > 0) tops.add(Math.round(rect.top));
    }
    return tops.size;
}"""
# Relative luminance of an element's background colour (0 black, 1 white).
LUMINANCE = """(element) => {
    const [r, g, b] = getComputedStyle(element).backgroundColor.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
    const lin = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
}"""


class Pupil:
    """A demo student over a real socket: logged in, exam started, joined (again with `join`)."""

    def __init__(self, server, exam_id: int, email: str) -> None:
        self.server, self.exam_id = server, exam_id
        self.token = api(server.url, "POST", "/api/auth/login", {"email": email, "password": PASSWORD})["token"]
        self.session_id = api(server.url, "POST", f"/api/exams/{exam_id}/start", token=self.token)["data"]["id"]
        self.sockets = ExitStack()
        self.socket = None
        self.sent = 0

    def join(self) -> Pupil:
        url = self.server.daphne.ws_url + f"?token={quote(self.token)}"
        self.socket = self.sockets.enter_context(connect(url, open_timeout=10))
        receive_until(self.socket, "connected")
        self.send("join_exam")
        receive_until(self.socket, "joined_exam")
        return self

    def send(self, event: str, **data) -> None:
        self.socket.send(json.dumps({"event": event, "data": {"exam_id": self.exam_id, **data}}))

    def act(self, **activity) -> None:
        self.sent += 1
        self.send("suspicious_activity", client_event_id=f"dash-{self.sent}", **activity)
        receive_until(self.socket, "activity_logged")

    def raise_hand(self, message: str) -> None:
        self.send("raise_hand", message=message)
        receive_until(self.socket, "action_ok")

    def leave(self) -> None:
        self.sockets.close()


def watch(browser, server, width: int):
    """A proctor's live page of the demo exam in a window `width` px wide; returns (page, exam id)."""
    [(exam_id,)] = server.query("SELECT id FROM exams WHERE name = ?", (DEMO_EXAM,))
    page = browser.new_context(viewport={"width": width, "height": 900}).new_page()
    log_in_as_proctor(page, server.url)
    page.goto(f"{server.url}/monitor/exam/{exam_id}/")
    expect(page.locator("#conn-text")).to_have_text("Live")
    return page, exam_id


@pytest.mark.parametrize("width", [1280, 1920])
def test_every_action_of_every_student_is_inside_the_window_and_clickable(server, browser, artifacts, width):
    [(exam_id,)] = server.query("SELECT id FROM exams WHERE name = ?", (DEMO_EXAM,))
    asha, ben = Pupil(server, exam_id, ASHA), Pupil(server, exam_id, BEN)
    page, _ = watch(browser, server, width)
    try:
        asha.join()
        ben.join()
        rows = page.locator("#student-rows tr")
        expect(rows).to_have_count(2)
        asha.act(type="question_answered", question_id="q1", time_spent_sec=40)  # the longest activity label
        activity = rows.filter(has_text="Asha Verma").locator("td.activity")
        expect(activity).to_contain_text("answered a question")
        page.screenshot(path=str(artifacts / f"dashboard-{width}.png"), full_page=True)

        seen = page.evaluate(GEOMETRY)
        assert seen["table"] <= seen["box"] + 1, f"the table ({seen['table']} px) overflows its box ({seen['box']} px)"
        right_edge = min(seen["boxRight"], seen["window"]) + 1
        for row in seen["rows"]:
            assert len(row["actions"]) == len(ACTIONS), row
            for action in row["actions"]:
                assert seen["boxLeft"] - 1 <= action["left"] and action["right"] <= right_edge, (width, action)
        for name in ("Asha Verma", "Ben Okafor"):
            row = rows.filter(has_text=name)
            for role, label in ACTIONS:
                row.get_by_role(role, name=label.format(name)).click(trial=True, timeout=5_000)
        assert activity.evaluate(TEXT_LINES) <= 2, "Last activity wraps onto more than two lines"

        rows.filter(has_text="Ben Okafor").get_by_role("button", name="Terminate the session of Ben Okafor").click()
        expect(page.locator("#terminate-dialog")).to_be_visible()
        page.locator("#terminate-dialog").get_by_role("button", name="Cancel").click()
        rows.filter(has_text="Ben Okafor").get_by_role("link", name="Review the session of Ben Okafor").click()
        page.wait_for_url(re.compile(rf"/admin/exams/examsession/{ben.session_id}/change/$"))
    finally:
        page.context.close()
        asha.leave()
        ben.leave()


def test_a_student_who_reconnects_shows_incidents_hand_and_pause_without_a_refresh(server, browser, artifacts):
    [(exam_id,)] = server.query("SELECT id FROM exams WHERE name = ?", (DEMO_EXAM,))
    asha = Pupil(server, exam_id, ASHA).join()
    for _ in range(3):
        asha.act(type="tab_switch")
    asha.raise_hand("My screen froze, may I have the time back?")
    proctor = api(server.url, "POST", "/api/auth/login", {"email": "proctor@exampulse.ai", "password": "password123"})
    api(server.url, "POST", f"/api/exams/sessions/{asha.session_id}/pause", {"reason": "fire alarm"}, proctor["token"])
    asha.leave()

    page, _ = watch(browser, server, 1280)
    try:
        rows = page.locator("#student-rows tr")
        expect(page.locator("#no-students")).to_be_visible()
        asha.join()  # back: announced by student_joined alone (nobody clicks "Refresh list")
        row = rows.filter(has_text="Asha Verma")
        expect(row).to_have_count(1)
        sql = "SELECT flagged_incidents_count FROM exam_sessions WHERE id = ?"
        [(incidents,)] = server.query(sql, (asha.session_id,))
        assert incidents >= 3
        expect(row.locator("td").nth(1)).to_have_text(str(incidents))
        expect(row).to_contain_text("Hand raised")
        expect(row).to_contain_text("paused")
        expect(row.get_by_role("button", name="Resume the exam of Asha Verma")).to_be_visible()
        hand = page.locator("#hand-list .hand-item", has_text="My screen froze, may I have the time back?")
        expect(hand).to_have_count(1)
        page.screenshot(path=str(artifacts / "dashboard-reconnected.png"), full_page=True)
    finally:
        page.context.close()
        asha.leave()


def test_alert_cards_name_the_raised_and_the_current_risk_and_a_hand_is_not_an_error(server, browser, artifacts):
    # High sensitivity alerts from 0.5: a Medium alert first, then a High one as the risk climbs.
    server.query("UPDATE exams SET monitoring_sensitivity = 'high' WHERE name = ?", (DEMO_EXAM,))
    page, exam_id = watch(browser, server, 1920)
    asha = Pupil(server, exam_id, ASHA).join()
    try:
        for _ in range(11):
            asha.act(type="tab_switch")
        asha.act(type="window_focus", blur_duration_ms=130_000)
        asha.act(type="question_answered", question_id="q1", time_spent_sec=2)
        card = page.locator(".alert-item", has_text=re.compile(r"Risk 0\.\d\d \(medium\)"))
        expect(card.locator(".alert-levels")).to_have_text(re.compile(r"^Raised at Medium · 0\.\d\d — now Medium"))
        asha.act(type="typing_sample", wpm=200)
        both = re.compile(r"^Raised at Medium · 0\.\d\d — now High · 0\.\d\d$")
        expect(card.locator(".alert-levels")).to_have_text(both)
        [(now,)] = server.query("SELECT risk_score FROM exam_sessions WHERE id = ?", (asha.session_id,))
        expect(card.locator(".alert-levels")).to_contain_text(f"now High · {now:.2f}")

        asha.raise_hand("Is a calculator allowed?")
        toast = page.locator(".toast", has_text="Is a calculator allowed?")
        expect(toast).to_contain_text("Asha Verma raised a hand")
        page.screenshot(path=str(artifacts / "dashboard-alerts-and-hand.png"))
        assert toast.evaluate(LUMINANCE) > 0.8, "the hand toast is dark, like an error"
        assert "hand" in toast.locator(".hand-icon").evaluate("(node) => getComputedStyle(node).backgroundImage")
        toast.get_by_role("button", name="Answer Asha Verma's raised hand").click()
        expect(page.locator("#hand-list input[data-hand-id]")).to_be_focused()

        page.reload()  # the cards from the page's own list: the same words
        expect(page.locator("#conn-text")).to_have_text("Live")
        expect(card.locator(".alert-levels")).to_have_text(both)
    finally:
        page.context.close()
        asha.leave()
