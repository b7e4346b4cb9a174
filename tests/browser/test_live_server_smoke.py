"""The browser harness itself: a seeded server under daphne, reached by Chromium."""

from __future__ import annotations


def test_chromium_reaches_the_admin_login_of_a_live_server(server, page, artifacts):
    page.goto(f"{server.url}/admin/login/")
    assert "Log in" in page.title()
    page.fill("#id_username", "proctor@exampulse.ai")
    page.fill("#id_password", "password123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{server.url}/admin/")
    assert "Site administration" in page.content()
    page.screenshot(path=str(artifacts / "admin-home.png"))
    assert server.query("SELECT count(*) FROM users WHERE email = ?", ("proctor@exampulse.ai",)) == [(1,)]
