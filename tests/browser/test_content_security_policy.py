"""The pages work under their Content-Security-Policy in Chromium: nothing blocked, nothing broken.

Chromium reports each blocked script, style, handler, image or connection as a `securitypolicyviolation`
event and a console error; both are collected while the dashboard (its socket live), the demo exam
page (a student logged in and joined), the admin's session review page and /api/docs/ (Swagger UI
rendered from local files) load and run. The refused socket's close code is checked here too: a
browser cannot read an HTTP status of a refused handshake, only a close code.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.support.live import live_server

pytestmark = pytest.mark.timeout(240)

PROCTOR = ("proctor@exampulse.ai", "password123")
DEMO_EXAM = "Demo: General Science Quiz"
# Runs before any page script in every document (Playwright injects it; the policy does not apply to it).
WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${where}`);
});
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("csp")) as running:
        yield running


def api(server, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        f"{server.url}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


@pytest.fixture(scope="module")
def taken(server) -> dict:
    """A demo student's session of the demo quiz with a few events, for the admin review page."""
    token = api(server, "POST", "/api/auth/login", {"email": "dana@exampulse.ai", "password": "student123"})["token"]
    exam = next(e for e in api(server, "GET", "/api/exams", token=token)["data"] if e["name"] == DEMO_EXAM)
    session = api(server, "POST", f"/api/exams/{exam['id']}/start", {}, token=token)["data"]
    events = [{"type": "tab_switch", "client_event_id": f"csp-{i}"} for i in range(3)]
    api(server, "POST", f"/api/exams/sessions/{session['id']}/events", {"events": events}, token=token)
    return {"exam_id": exam["id"], "session_id": session["id"]}


@pytest.fixture
def watched(browser):
    """A page whose policy violations and console errors are collected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script(WATCH_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    yield page, problems
    context.close()


def _clean(page, problems: list[str], what: str) -> None:
    page.wait_for_timeout(500)  # late loads (fonts, images, the socket) report too
    violations = page.evaluate("() => window.__cspViolations")
    assert violations == [], f"{what}: {violations}"
    assert not [p for p in problems if "Content Security Policy" in p or "page error" in p], f"{what}: {problems}"


def _log_in(page, server) -> None:
    response = page.goto(f"{server.url}/admin/login/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("#id_username", PROCTOR[0])
    page.fill("#id_password", PROCTOR[1])
    page.click("input[type=submit]")
    page.wait_for_url(f"{server.url}/admin/")


def test_the_admin_review_page_and_the_live_dashboard_run_under_the_policy(server, taken, watched, artifacts):
    page, problems = watched
    _log_in(page, server)
    _clean(page, problems, "admin index")

    page.goto(f"{server.url}/admin/exams/examsession/{taken['session_id']}/change/")
    page.wait_for_selector("svg.risk-chart")
    _clean(page, problems, "admin review page")

    response = page.goto(f"{server.url}/monitor/exam/{taken['exam_id']}/")
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_function("() => document.getElementById('conn-text').textContent === 'Live'", timeout=20_000)
    page.screenshot(path=str(artifacts / "csp-dashboard.png"))
    _clean(page, problems, "dashboard")


def test_the_api_docs_render_from_local_files_under_the_policy(server, watched, artifacts):
    page, problems = watched
    foreign: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(server.url) else foreign.append(request.url))

    page.goto(f"{server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
    page.wait_for_selector(".opblock-tag", timeout=20_000)

    assert "ExamPulse API" in page.inner_text(".swagger-ui .info .title")
    assert foreign == [], foreign
    page.screenshot(path=str(artifacts / "csp-api-docs.png"))
    _clean(page, problems, "api docs")


def test_the_demo_exam_page_runs_under_the_policy(server, taken, watched):
    page, problems = watched
    page.goto(f"{server.url}/demo/")
    _clean(page, problems, "demo index")
    page.check("input[name=student][value='ben@exampulse.ai']")
    page.click(f"a.take-exam[data-exam-id='{taken['exam_id']}']")
    page.wait_for_selector("body[data-connection=online]", timeout=20_000)
    _clean(page, problems, "demo exam page")


def test_a_browser_reads_4401_when_the_socket_refuses_its_token(server, watched):
    page, _problems = watched
    page.goto(f"{server.url}/demo/")
    code = page.evaluate(
        """() => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws/exam/?token=not-a-token`);
            ws.onclose = (event) => resolve(event.code);
        })"""
    )
    assert code == 4401


def test_the_policy_blocks_injected_inline_code_and_the_watcher_sees_it(server, watched):
    # What the other tests rely on: an inline script or style attribute (as an XSS would inject) is
    # refused, and the refusal is reported.
    page, _problems = watched
    page.goto(f"{server.url}/demo/")
    ran = page.evaluate(
        """() => {
            window.__injected = false;
            const script = document.createElement("script");
            script.textContent = "window.__injected = true";
            document.body.appendChild(script);
            document.body.insertAdjacentHTML("beforeend", '<img src="x.png" onerror="window.__injected = true">');
            return window.__injected;
        }"""
    )
    page.wait_for_timeout(500)
    assert ran is False and page.evaluate("() => window.__injected") is False
    violations = page.evaluate("() => window.__cspViolations")
    assert len([v for v in violations if v.startswith("script-src")]) >= 2, violations
