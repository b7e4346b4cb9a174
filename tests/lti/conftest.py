"""LTI fixtures: the project's test platform (harness/lti_platform.py) on loopback, registered with the
tool through `manage.py lti_register`, and helpers that play the browser's part of a launch over the
Django test client (the login redirect, the platform's auth step, the form post back)."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from harness.lti_platform import INSTRUCTOR, LEARNER, LtiPlatform, Person

TOOL = "http://testserver"
LAUNCH_URL = f"{TOOL}/lti/launch/"


@pytest.fixture
def platform(settings, db):
    settings.PUBLIC_URL = TOOL
    with LtiPlatform() as running:
        running.launch_url = LAUNCH_URL
        running.tool_jwks_url = ""  # the Django test client's tool has no port: service tests use a live server
        out = io.StringIO()
        call_command("lti_register", *running.register_args(), stdout=out, stderr=io.StringIO())
        running.printed = dict(line.split(": ", 1) for line in out.getvalue().splitlines())
        yield running


ALICE = Person("learner-alice", "Alice Learner", "alice@lms.example.edu", [LEARNER])
IVAN = Person("instructor-ivan", "Ivan Instructor", "ivan@lms.example.edu", [INSTRUCTOR])


def login_redirect(client: Client, platform: LtiPlatform, hint: str) -> dict[str, str]:
    """The platform's login initiation to the tool; the tool's redirect to the platform's auth URL, parsed."""
    login_path = urlsplit(platform.printed["login_url"]).path
    response = client.get(login_path, platform.login_params(hint, target_link_uri=LAUNCH_URL))
    assert response.status_code == 302, response.content.decode()[:500]
    location = response["Location"]
    assert location.startswith(platform.auth_url + "?")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def do_launch(client: Client, platform: LtiPlatform, hint: str, **overrides):
    """A whole launch over the test client; `overrides` change the id_token's claims (see LtiPlatform.id_token)."""
    params = login_redirect(client, platform, hint)
    redirect_uri, token, state = platform.authorize(params)
    if overrides:
        token = platform.id_token(platform.launches[hint], nonce=params["nonce"], **overrides)
    assert redirect_uri == LAUNCH_URL
    response = client.post("/lti/launch/", {"id_token": token, "state": state})
    response.id_token, response.state = token, state
    return response


def launch_data(response) -> dict:
    """The `#exampulse-launch` JSON of a landing page."""
    match = re.search(
        r'<script id="exampulse-launch" type="application/json">(.*?)</script>', response.content.decode()
    )
    assert match, response.content.decode()[:800]
    return json.loads(match.group(1))
