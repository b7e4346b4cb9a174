"""An LTI 1.3 platform (the LMS side) of the project's own, for tests, served over real HTTP on loopback.

What a real LMS does for a tool, and checks of what the tool sends it:
- its RSA key and JWKS (`/jwks`), used to sign id_tokens;
- the OIDC auth endpoint (`/auth`): checks the tool's login redirect (scope, response type and mode,
  prompt, client id, the registered redirect_uri, login hint, state and nonce present) and answers
  with a page that form-posts the signed id_token and the state to the tool's launch URL;
- the token endpoint (`/token`): verifies the tool's client assertion (RS256 JWT, checked with the
  tool's own JWKS fetched over HTTP: iss = sub = client id, aud = the token URL, exp, a fresh jti)
  and issues a bearer token for the granted scopes;
- NRPS (`/nrps/<context>`) and AGS (`/lineitems...`, `/scores`) endpoints that check the bearer
  token's scope and record every request.

Crypto is PyJWT and cryptography; nothing is hand-rolled. Tests drive it as
`with LtiPlatform() as platform: ...` (a ThreadingHTTPServer on a free port).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient, PyJWKSet
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LEARNER = ROLE + "Learner"
INSTRUCTOR = ROLE + "Instructor"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
RESULT_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
NRPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class Person:
    sub: str
    name: str
    email: str | None
    roles: list[str]


@dataclass
class Context:
    id: str
    title: str
    label: str
    # NRPS: the members the platform lists (mutable: tests add and remove people).
    members: list[Person] = field(default_factory=list)


class PlatformError(Exception):
    """A request from the tool that a real platform would refuse; the message says why."""


class LtiPlatform:
    """See the module docstring. `browser_host` is the host name the browser uses for the platform:
    "localhost" while the tool runs on 127.0.0.1 makes the tool's iframe cross-site, as in an LMS."""

    def __init__(self, *, client_id: str = "exampulse-client", browser_host: str = "localhost") -> None:
        self.client_id = client_id
        self.deployment_id = "deployment-1"
        self.key = new_rsa_key()
        self.kid = "platform-key-1"
        self.extra_jwks: list[dict[str, Any]] = []
        self.browser_host = browser_host
        self.launch_url = ""  # the tool's launch URL, registered by the test (redirect_uri must match)
        self.tool_jwks_url = ""  # where the token endpoint fetches the tool's keys
        self.tool_jwks: dict[str, Any] | None = None  # or the tool's JWKS as served (in-process tools)
        self.launches: dict[str, dict[str, Any]] = {}  # lti_message_hint -> the launch to issue
        self.contexts: dict[str, Context] = {}
        self.tokens: dict[str, set[str]] = {}  # bearer token -> scopes
        self.used_jtis: set[str] = set()
        self.requests: list[dict[str, Any]] = []  # every request, in order
        self.token_requests: list[dict[str, Any]] = []
        self.scores: list[dict[str, Any]] = []  # AGS score posts that were accepted
        self.score_failures = 0  # answer the next N score posts with 503
        self.lineitems: dict[str, dict[str, Any]] = {}
        self.jwks_fetches = 0
        self.deep_links: list[dict[str, Any]] = []  # verified LtiDeepLinkingResponse claims
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def __enter__(self) -> LtiPlatform:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is None:
            raise RuntimeError("the LTI platform was never started")
        self._server.shutdown()
        self._server.server_close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the LTI platform is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """Server-to-server base URL (the tool's requests)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def browser_url(self) -> str:
        return f"http://{self.browser_host}:{self.port}"

    @property
    def issuer(self) -> str:
        return self.browser_url

    @property
    def auth_url(self) -> str:
        return f"{self.browser_url}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.url}/jwks"

    def register_args(self) -> list[str]:
        """`manage.py lti_register` arguments for this platform."""
        return [
            "--name", "Test LMS", "--issuer", self.issuer, "--client-id", self.client_id,
            "--deployment-id", self.deployment_id, "--auth-url", self.auth_url,
            "--token-url", self.token_url, "--keyset-url", self.jwks_url,
        ]  # fmt: skip

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(self.key, self.kid), *self.extra_jwks]}

    def rotate_key(self) -> None:
        """A new signing key under a new kid (the old one leaves the JWKS)."""
        self.key = new_rsa_key()
        self.kid = f"platform-key-{uuid.uuid4().hex[:8]}"

    # --- launches -------------------------------------------------------------------------------

    def context(self, context_id: str = "course-1", title: str = "Chemistry 101", label: str = "CHEM101") -> Context:
        if context_id not in self.contexts:
            self.contexts[context_id] = Context(context_id, title, label)
        return self.contexts[context_id]

    def prepare_launch(
        self,
        person: Person,
        *,
        context: Context | None = None,
        resource_link_id: str = "link-1",
        custom: dict[str, str] | None = None,
        lineitem: str | None = None,
        claims: dict[str, Any] | None = None,
        deep_link: bool = False,
    ) -> str:
        """Store a launch for `person`; returns its lti_message_hint."""
        context = context or self.context()
        if all(member.sub != person.sub for member in context.members):
            context.members.append(person)
        hint = secrets.token_urlsafe(12)
        self.launches[hint] = {
            "person": person,
            "context": context,
            "resource_link_id": resource_link_id,
            "custom": custom or {},
            "lineitem": lineitem or f"{self.url}/lineitems/{context.id}-{resource_link_id}",
            "claims": claims or {},
            "deep_link": deep_link,
        }
        self.lineitems.setdefault(
            f"{context.id}-{resource_link_id}", {"id": f"{self.url}/lineitems/{context.id}-{resource_link_id}"}
        )
        return hint

    def login_params(self, hint: str, *, target_link_uri: str) -> dict[str, str]:
        """The third-party login initiation the platform sends to the tool's login URL."""
        person = self.launches[hint]["person"]
        return {
            "iss": self.issuer,
            "login_hint": person.sub,
            "target_link_uri": target_link_uri,
            "lti_message_hint": hint,
            "client_id": self.client_id,
            "lti_deployment_id": self.deployment_id,
        }

    def login_url(self, tool_login_url: str, hint: str, *, target_link_uri: str) -> str:
        return tool_login_url + "?" + urlencode(self.login_params(hint, target_link_uri=target_link_uri))

    def authorize(self, params: dict[str, str]) -> tuple[str, str, str]:
        """Check the tool's OIDC auth request; (redirect_uri, id_token, state) to post back."""
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
            "client_id": self.client_id,
        }
        for name, value in expected.items():
            if params.get(name) != value:
                raise PlatformError(f"{name} must be {value!r}, not {params.get(name)!r}")
        if not self.launch_url or params.get("redirect_uri") != self.launch_url:
            raise PlatformError(
                f"redirect_uri {params.get('redirect_uri')!r} is not the registered {self.launch_url!r}"
            )
        for name in ("state", "nonce", "login_hint", "lti_message_hint"):
            if not params.get(name):
                raise PlatformError(f"{name} is missing")
        launch = self.launches.get(params["lti_message_hint"])
        if launch is None or launch["person"].sub != params["login_hint"]:
            raise PlatformError("login_hint and lti_message_hint do not name a launch")
        token = self.id_token(launch, nonce=params["nonce"])
        return params["redirect_uri"], token, params["state"]

    def id_token(self, launch: dict[str, Any], *, nonce: str, key=None, kid: str | None = None, **overrides) -> str:
        """The signed id_token of a prepared launch; `overrides` replace claims (None removes one)."""
        person: Person = launch["person"]
        context: Context = launch["context"]
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": person.sub,
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "name": person.name,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": self.launch_url,
            LTI + "roles": person.roles,
            LTI + "context": {"id": context.id, "title": context.title, "label": context.label},
            LTI + "resource_link": {"id": launch["resource_link_id"], "title": "Final exam"},
            LTI + "custom": launch["custom"],
            NRPS_CLAIM: {"context_memberships_url": f"{self.url}/nrps/{context.id}", "service_versions": ["2.0"]},
            AGS_CLAIM: {
                "scope": [LINEITEM_SCOPE, RESULT_SCOPE, SCORE_SCOPE],
                "lineitems": f"{self.url}/lineitems",
                "lineitem": launch["lineitem"],
            },
        }
        if person.email:
            claims["email"] = person.email
        if launch.get("deep_link"):
            # An instructor adding the tool to the course: the tool answers with the link to create.
            del claims[LTI + "resource_link"], claims[AGS_CLAIM]["lineitem"]
            claims[LTI + "message_type"] = "LtiDeepLinkingRequest"
            claims[DL_SETTINGS] = {
                "deep_link_return_url": f"{self.browser_url}/deep_link_return",
                "accept_types": ["ltiResourceLink"],
                "accept_presentation_document_targets": ["iframe", "window"],
                "data": f"dl-{launch['context'].id}",
            }
        claims.update(launch["claims"])
        claims.update(overrides)
        claims = {name: value for name, value in claims.items() if value is not None}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})

    # --- services -------------------------------------------------------------------------------

    def issue_token(self, form: dict[str, str]) -> dict[str, Any]:
        """The token endpoint: verify the tool's client assertion, grant the scopes asked for."""
        if form.get("grant_type") != "client_credentials":
            raise PlatformError("grant_type must be client_credentials")
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise PlatformError("client_assertion_type must be jwt-bearer")
        assertion = form.get("client_assertion") or ""
        try:
            signing_key = self.tool_key(assertion)
            claims = jwt.decode(
                assertion,
                signing_key.key,
                algorithms=["RS256"],
                audience=self.token_url,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as exc:
            raise PlatformError(f"client assertion refused: {exc}") from exc
        if claims["iss"] != self.client_id or claims["sub"] != self.client_id:
            raise PlatformError("client assertion iss/sub must be the client id")
        with self._lock:
            if claims["jti"] in self.used_jtis:
                raise PlatformError("client assertion jti already used")
            self.used_jtis.add(claims["jti"])
            scopes = set((form.get("scope") or "").split())
            token = secrets.token_urlsafe(16)
            self.tokens[token] = scopes
        self.token_requests.append({"scopes": sorted(scopes), "kid": signing_key.key_id})
        return {"access_token": token, "token_type": "Bearer", "expires_in": 3600, "scope": " ".join(sorted(scopes))}

    def tool_key(self, token: str):
        """The tool's public key that signed `token` (from its JWKS, as served)."""
        if self.tool_jwks is not None:
            kid = jwt.get_unverified_header(token).get("kid")
            keys = [key for key in PyJWKSet.from_dict(self.tool_jwks).keys if key.key_id == kid]
            if not keys:
                raise PlatformError(f"no tool key with kid {kid!r}")
            return keys[0]
        if self.tool_jwks_url:
            return PyJWKClient(self.tool_jwks_url, cache_keys=False).get_signing_key_from_jwt(token)
        raise PlatformError("the tool's JWKS URL is not registered")

    def deep_link_return(self, form: dict[str, str]) -> dict[str, Any]:
        """The deep-linking return URL: verify the tool's LtiDeepLinkingResponse and keep its items."""
        token = form.get("JWT") or ""
        try:
            claims = jwt.decode(
                token,
                self.tool_key(token).key,
                algorithms=["RS256"],
                audience=self.issuer,
                issuer=self.client_id,
                options={"require": ["exp", "iat", "nonce"]},
            )
        except jwt.PyJWTError as exc:
            raise PlatformError(f"deep linking response refused: {exc}") from exc
        if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
            raise PlatformError("not an LtiDeepLinkingResponse")
        if claims.get(LTI + "deployment_id") != self.deployment_id:
            raise PlatformError("wrong deployment_id")
        self.deep_links.append(claims)
        return claims

    def check_bearer(self, header: str | None, scope: str) -> None:
        token = (header or "").removeprefix("Bearer ").strip()
        if scope not in self.tokens.get(token, set()):
            raise PermissionError(f"bearer token without scope {scope}")

    def membership(self, context_id: str) -> dict[str, Any]:
        context = self.contexts[context_id]
        members = []
        for person in context.members:
            member = {"user_id": person.sub, "name": person.name, "roles": person.roles, "status": "Active"}
            if person.email:
                member["email"] = person.email
            members.append(member)
        return {
            "id": f"{self.url}/nrps/{context_id}",
            "context": {"id": context.id, "title": context.title},
            "members": members,
        }


def _handler_for(platform: LtiPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read platform.requests instead

        def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _record(self, body: bytes = b"") -> dict[str, Any]:
            entry = {
                "method": self.command,
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "authorization": self.headers.get("Authorization"),
                "body": body.decode(errors="replace"),
            }
            platform.requests.append(entry)
            return entry

        def do_GET(self) -> None:
            self._record()
            parts = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            try:
                if parts.path == "/jwks":
                    platform.jwks_fetches += 1
                    self._send(200, platform.jwks())
                elif parts.path == "/auth":
                    redirect_uri, token, state = platform.authorize(query)
                    self._send(200, _autopost(redirect_uri, {"id_token": token, "state": state}), "text/html")
                elif parts.path == "/course":
                    # The LMS's course page: the tool opens in an iframe at its login URL.
                    src = html.escape(query.get("src", ""))
                    frame = f'<iframe id="tool" src="{src}" width="1200" height="800"></iframe>'
                    page = f"<!doctype html><h1>Course</h1>{frame}"
                    self._send(200, page, "text/html")
                elif parts.path.startswith("/nrps/"):
                    platform.check_bearer(self.headers.get("Authorization"), NRPS_SCOPE)
                    self._send(200, platform.membership(parts.path.removeprefix("/nrps/")), NRPS_TYPE)
                elif parts.path == "/lineitems":
                    platform.check_bearer(self.headers.get("Authorization"), LINEITEM_SCOPE)
                    self._send(
                        200, list(platform.lineitems.values()), "application/vnd.ims.lis.v2.lineitemcontainer+json"
                    )
                else:
                    self._send(404, {"error": "not found"})
            except PlatformError as exc:
                self._send(400, f"Platform refused the request: {exc}", "text/plain")
            except PermissionError as exc:
                self._send(401, {"error": str(exc)})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            entry = self._record(body)
            path = urlsplit(self.path).path
            try:
                if path == "/token":
                    form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
                    self._send(200, platform.issue_token(form))
                elif path == "/deep_link_return":
                    form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
                    items = platform.deep_link_return(form)[DL_ITEMS]
                    self._send(
                        200, f"<!doctype html><p id='added'>Added {html.escape(items[0]['title'])}</p>", "text/html"
                    )
                elif path.endswith("/scores"):
                    platform.check_bearer(self.headers.get("Authorization"), SCORE_SCOPE)
                    with platform._lock:
                        failing = platform.score_failures > 0
                        if failing:
                            platform.score_failures -= 1
                    if failing:
                        self._send(503, {"error": "gradebook unavailable"})
                        return
                    platform.scores.append({**entry, "json": json.loads(body)})
                    self._send(200, {})
                elif path == "/lineitems":
                    platform.check_bearer(self.headers.get("Authorization"), LINEITEM_SCOPE)
                    item = json.loads(body)
                    item_id = f"{platform.url}/lineitems/created-{len(platform.lineitems)}"
                    platform.lineitems[item_id] = {**item, "id": item_id}
                    self._send(201, platform.lineitems[item_id], "application/vnd.ims.lis.v2.lineitem+json")
                else:
                    self._send(404, {"error": "not found"})
            except PlatformError as exc:
                self._send(400, {"error": str(exc)})
            except PermissionError as exc:
                self._send(401, {"error": str(exc)})

    return Handler


def _autopost(action: str, fields: dict[str, str]) -> str:
    """The page a platform answers its auth request with: a form that posts itself to the tool."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
        for name, value in fields.items()
    )
    return (
        "<!doctype html><html><body>"
        f'<form id="launch" method="post" action="{html.escape(action)}">{inputs}</form>'
        "<script>document.getElementById('launch').submit();</script></body></html>"
    )
