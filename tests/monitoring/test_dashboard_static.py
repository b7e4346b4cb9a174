"""Production mode: daphne with DEBUG off serves the collected static files itself (whitenoise)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from harness.servers import manage
from tests.support.live import live_server

pytestmark = pytest.mark.slow

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "static-test-key-" + "x" * 40,
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # No TLS proxy in front of this test server: plain http must not be redirected.
    "SECURE_SSL_REDIRECT": "false",
}
ASSETS = ["monitoring/dashboard.js", "monitoring/dashboard.css", "monitoring/admin.css", "admin/css/base.css"]


def get(url: str) -> urllib.request.addinfourl:
    return urllib.request.urlopen(url, timeout=10)  # noqa: S310 - our own loopback server


def test_daphne_in_production_mode_serves_collected_static_files(tmp_path, seed_cache):
    static_root = tmp_path / "static"
    env = {**PRODUCTION, "STATIC_ROOT": str(static_root)}
    manage("collectstatic", "--noinput", "--verbosity", "0", database_url=None, extra_env=env)
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]

    with live_server(tmp_path, extra_env=env, seeds=seed_cache) as server:
        for name in ASSETS:
            with get(f"{server.url}/static/{manifest[name]}") as response:
                assert response.status == 200, name
                assert response.read() == (static_root / manifest[name]).read_bytes()
                # Hashed names never change content, so browsers may keep them for good.
                assert "immutable" in response.headers["Cache-Control"]
        with get(f"{server.url}/admin/login/") as response:
            page = response.read().decode()
        assert f"/static/{manifest['admin/css/base.css']}" in page
        assert f"/static/{manifest['monitoring/admin.css']}" in page
        with pytest.raises(urllib.error.HTTPError) as missing:
            get(f"{server.url}/static/monitoring/no-such-file.js")
        assert missing.value.code == 404
