"""LTI launches in a real browser: Chromium opens the project's test platform's course page, which frames
ExamPulse (a real daphne) the way an LMS does, on another site (localhost vs 127.0.0.1).

The iframe goes through the whole OIDC dance (tool login → platform auth → form post of the signed
id_token to the launch URL) and lands, for the instructor, on the live dashboard and, for the learner,
on the exam client, which starts, answers and submits over the API and the socket with the tokens
from `#exampulse-launch`. No cookie is needed: none is sent cross-site from the iframe over http.
"""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import quote

import pytest

from harness.lti_platform import INSTRUCTOR, LEARNER, LtiPlatform, Person
from harness.servers import free_port, manage
from tests.support.live import live_server

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

QUESTIONS = [
    {"id": "q1", "text": "Which gas do plants take in?", "type": "mcq", "options": ["O2", "CO2"], "answer": "CO2"},
    {"id": "q2", "text": "Noble gases?", "type": "multi", "options": ["He", "N2", "Ne"], "answer": ["He", "Ne"]},
]
IVAN = Person("ivan-sub-1", "Ivan Instructor", "ivan@lms.example.edu", [INSTRUCTOR])
ALICE = Person("alice-sub-1", "Alice Learner", "alice@lms.example.edu", [LEARNER])


@pytest.fixture(scope="module")
def lms(tmp_path_factory, seed_cache):
    """A daphne that knows its own URL (PUBLIC_URL) and the test platform registered with it."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    tmp = tmp_path_factory.mktemp("lti")
    with (
        live_server(tmp, seeds=seed_cache, port=port, extra_env={"PUBLIC_URL": public}) as server,
        LtiPlatform() as platform,
    ):
        platform.launch_url = f"{public}/lti/launch/"
        platform.tool_jwks_url = f"{public}/lti/jwks/"
        out = manage(
            "lti_register",
            *platform.register_args(),
            database_url=server.daphne.database_url,
            extra_env=server.daphne.extra_env,
        )
        platform.printed = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
        assert platform.printed["launch_url"] == platform.launch_url
        yield server, platform


def open_in_course(page, platform: LtiPlatform, hint: str):
    """The LMS's course page with the tool's iframe started at its login URL; returns the frame."""
    login = platform.login_url(platform.printed["login_url"], hint, target_link_uri=platform.launch_url)
    page.goto(f"{platform.browser_url}/course?src={quote(login, safe='')}")
    frame = page.frame_locator("#tool")
    return frame


def _launch_json(frame) -> dict:
    return json.loads(frame.locator("#exampulse-launch").text_content(timeout=20_000))


def _api(server, method: str, path: str, token: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        f"{server.url}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback test server
        return json.load(response)


def test_instructor_sets_up_and_watches_while_a_learner_takes_the_exam_inside_the_lms(lms, browser, artifacts):
    server, platform = lms
    teacher = browser.new_context(viewport={"width": 1400, "height": 1000})
    learner = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        # 1. The instructor opens the new link: not bound yet, so the set-up page, inside the iframe.
        ivan_page = teacher.new_page()
        frame = open_in_course(ivan_page, platform, platform.prepare_launch(IVAN))
        frame.locator("#lti-unbound").wait_for(timeout=20_000)
        ivan = _launch_json(frame)
        assert ivan["role"] == "proctor" and ivan["exam_id"] is None

        # 2. The instructor's tokens work for the API: the exam is made in the LMS course's ExamPulse course.
        exam = _api(
            server,
            "POST",
            "/api/exams/",
            ivan["access"],
            {
                "name": "Chemistry final",
                "duration_minutes": 30,
                "status": "active",
                "questions": QUESTIONS,
                "course": ivan["course_id"],
            },
        )["data"]

        # 3. The link now carries exam_id: the instructor lands on the live dashboard, connected by token.
        frame = open_in_course(ivan_page, platform, platform.prepare_launch(IVAN, custom={"exam_id": str(exam["id"])}))
        frame.locator("#conn-text:has-text('Live')").wait_for(timeout=20_000)
        assert frame.locator("h1").first.inner_text() == "Chemistry final"

        # 4. The learner launches the same link: the exam page, signed in, no login box, no demo panel.
        alice_page = learner.new_page()
        frame = open_in_course(
            alice_page, platform, platform.prepare_launch(ALICE, custom={"exam_id": str(exam["id"])})
        )
        frame.locator("body[data-connection=online]").wait_for(timeout=20_000)
        alice = _launch_json(frame)
        assert alice["role"] == "student" and alice["exam_id"] == exam["id"] and alice["course_id"] == ivan["course_id"]
        assert frame.locator("#student-name").inner_text() == "Alice Learner"
        assert frame.locator("#login-box").is_hidden() and frame.locator(".demo-panel").count() == 0
        frame.locator("#question-text:has-text('Which gas')").wait_for()

        # The instructor's dashboard sees her join, live.
        ivan_frame = ivan_page.frame_locator("#tool")
        ivan_frame.locator("#student-rows:has-text('Alice Learner')").wait_for(timeout=20_000)

        # 5. She answers and submits; the result shows in the iframe.
        frame.locator("label.option:has-text('CO2') input").check()
        frame.locator("#next").click()
        frame.locator("label.option:has-text('He') input").check()
        frame.locator("label.option:has-text('Ne') input").check()
        frame.locator("#submit").click()
        frame.locator("#result:has-text('Exam submitted')").wait_for(timeout=20_000)
        alice_page.screenshot(path=str(artifacts / "lti-learner-submitted.png"))
        ivan_page.screenshot(path=str(artifacts / "lti-instructor-dashboard.png"))

        sessions = _api(server, "GET", f"/api/exams/sessions?exam={exam['id']}", ivan["access"])["data"]
        mine = [s for s in sessions if s["exam"]["id"] == exam["id"]]
        assert mine and mine[0]["status"] == "submitted", sessions

        # Nothing rode on a cookie of ExamPulse's: the cross-site iframe over http keeps none.
        assert not [c for c in learner.cookies() if c["domain"] == "127.0.0.1"]
    finally:
        teacher.close()
        learner.close()
