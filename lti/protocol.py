"""The LTI 1.3 protocol checks, on PyLTI1p3 and django-lti's models: OIDC login and launch validation.

PyLTI1p3 verifies the id_token (signature against the platform's JWKS, iss, client id, deployment,
message shape); this module closes the gaps ExamPulse cannot leave open:

- `state` and `nonce` are single-use and bound together, kept in the database (`LoginState`), not
  in a cookie: inside the LMS's iframe the browser may refuse third-party cookies, and the library's
  own nonce check only asks whether the nonce was ever issued (a replayed id_token would pass). When
  the state cookie does arrive (a first-party window), it must match as well.
- `aud` must contain our client id and, with several audiences, `azp` must name it; `exp` and `iat`
  are required (PyJWT then checks both).
- the platform's JWKS is cached and fetched again once when a token names an unknown `kid` (the
  platform rotated its keys).
- an unknown or inactive deployment is refused; django-lti would create it on the fly.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from lti_tool.models import LtiDeployment, LtiRegistration
from lti_tool.utils import DjangoToolConfig
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.contrib.django.launch_data_storage.cache import DjangoCacheDataStorage
from pylti1p3.deployment import Deployment
from pylti1p3.exception import LtiException, OIDCException

from lti.models import LoginState

# How long an OIDC login may take between our redirect to the platform and the id_token coming back.
STATE_TTL = timedelta(minutes=10)
# The platform's public keys are kept this long (fetched again at once for an unknown kid).
JWKS_CACHE_SECONDS = 3600
# Launch data the library keeps in the cache (deep linking reads it back): an exam sitting's length.
LAUNCH_DATA_SECONDS = 6 * 3600


class LaunchRefused(Exception):
    """A launch or login that failed a check: `reason` says which, for the 4xx page."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class CookielessCacheStorage(DjangoCacheDataStorage):
    """PyLTI1p3's cache-backed launch data without its per-browser session cookie.

    Over HTTPS the library would key the cache by a cookie set during the OIDC login, which a
    browser blocking third-party cookies never sends back from inside the LMS's iframe. Keys here
    are random (launch ids, nonces), and the single-use state/nonce pair lives in the database.
    """

    def get_session_cookie_name(self) -> str | None:
        return None


class ToolConfig(DjangoToolConfig):
    """django-lti's registration lookup, but deployments must be registered and active."""

    def _known_deployment(self, lookups: dict[str, Any]) -> Deployment | None:
        deployment = LtiDeployment.objects.filter(is_active=True, registration__is_active=True, **lookups).first()
        self.deployment = deployment
        return None if deployment is None else Deployment().set_deployment_id(deployment.deployment_id)

    def find_deployment(self, iss: str, deployment_id: str) -> Deployment | None:
        lookups: dict[str, Any] = {"registration__issuer": iss, "deployment_id": deployment_id}
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._known_deployment(lookups)

    def find_registration_by_params(self, iss: str, client_id: str | None, *args, **kwargs):
        # A login request may omit client_id; the registration's UUID in the login URL then names it.
        if client_id is None and self.registration_uuid is not None:
            return self.find_registration_by_issuer(iss)
        return super().find_registration_by_params(iss, client_id, *args, **kwargs)

    def find_deployment_by_params(self, iss: str, deployment_id: str, client_id: str, *args, **kwargs):
        lookups: dict[str, Any] = {
            "registration__issuer": iss,
            "registration__client_id": client_id,
            "deployment_id": deployment_id,
        }
        if self.registration_uuid is not None:
            lookups["registration__uuid"] = self.registration_uuid
        return self._known_deployment(lookups)


class OIDCLogin(DjangoOIDCLogin):
    """The library's login initiation; the state and nonce it issues are also stored as a LoginState."""

    def login_redirect_url(self, launch_url: str) -> str:
        url = self._prepare_redirect_url(launch_url)
        params = parse_qs(urlsplit(url).query)
        registration = self._tool_config.registration
        LoginState.objects.create(state=params["state"][0], nonce=params["nonce"][0], registration=registration)
        return url


class MessageLaunch(DjangoMessageLaunch):
    """The library's launch validation with ExamPulse's stricter checks (see the module docstring)."""

    _login: LoginState | None = None

    def validate_state(self) -> MessageLaunch:
        state = self._get_request_param("state")
        if not state:
            raise LtiException("Missing state param")
        cutoff = timezone.now() - STATE_TTL
        self._login = LoginState.objects.filter(state=state, used_at__isnull=True, created_at__gte=cutoff).first()
        if self._login is None:
            raise LtiException("Unknown, expired or already used state: start the launch again from the course")
        cookie = self._cookie_service.get_cookie(state)
        if cookie is not None and cookie != state:
            raise LtiException("State does not match this browser's login")
        return self

    def validate_nonce(self) -> MessageLaunch:
        nonce = self._get_jwt_body().get("nonce")
        if not nonce:
            raise LtiException('"nonce" is empty')
        if self._login is None or nonce != self._login.nonce:
            raise LtiException("Invalid nonce: the token was not issued for this login")
        return self

    def validate_registration(self) -> MessageLaunch:
        super().validate_registration()
        if self._login is not None and self._tool_config.registration.pk != self._login.registration_id:
            raise LtiException("The token's issuer and client id do not match the login's registration")
        body = self._get_jwt_body()
        client_id = self._registration.get_client_id()
        aud = body.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if client_id not in audiences:
            raise LtiException("Wrong audience: the token is not for this tool")
        if len(audiences) > 1 and body.get("azp") != client_id:
            raise LtiException("Wrong authorized party (azp) for a token with several audiences")
        if "azp" in body and body["azp"] != client_id:
            raise LtiException("Wrong authorized party (azp)")
        return self

    def get_public_key(self) -> tuple[str, str]:
        try:
            return super().get_public_key()
        except LtiException as exc:
            if "Unable to find public key" not in str(exc) or not self._registration.get_key_set_url():
                raise
        # An unknown kid: the platform may have rotated its keys since we cached them. Fetch once more.
        url = self._registration.get_key_set_url()
        self._public_key_cache_data_storage.set_value(_jwks_cache_key(url), None, 1)
        self._registration.set_key_set(None)
        return super().get_public_key()

    def validate_deployment(self) -> MessageLaunch:
        try:
            return super().validate_deployment()
        except LtiException as exc:
            raise LtiException("Unknown deployment: register it with `manage.py lti_register`") from exc

    def consume_login(self) -> None:
        """Mark the login's state used; a second use of the same state (a replay) fails here."""
        if self._login is None:
            raise LtiException("The launch was not validated")
        with transaction.atomic():
            taken = LoginState.objects.filter(pk=self._login.pk, used_at__isnull=True).update(used_at=timezone.now())
        if not taken:
            raise LtiException("This launch was already used (replayed id_token)")


def _jwks_cache_key(url: str) -> str:
    # The key PyLTI1p3 stores a JWKS under (MessageLaunch.fetch_public_key).
    return "key-set-url-" + hashlib.md5(url.encode("utf-8")).hexdigest()  # noqa: S324 - the library's cache key


def _storage(request: HttpRequest) -> CookielessCacheStorage:
    storage = CookielessCacheStorage()
    storage.set_request(request)
    return storage


def login_redirect(request: HttpRequest, *, registration_uuid: str | None, launch_url: str) -> str:
    """Validate an OIDC third-party login initiation; the platform auth URL to redirect to."""
    params = request.GET if request.method == "GET" else request.POST
    config = ToolConfig(registration_uuid)
    login = OIDCLogin(request, config, launch_data_storage=_storage(request))
    try:
        url = login.login_redirect_url(launch_url)
    except (LtiException, OIDCException) as exc:
        raise LaunchRefused(f"Login refused: {exc}") from exc
    target = params.get("target_link_uri")
    if target and urlsplit(target).netloc != urlsplit(launch_url).netloc:
        raise LaunchRefused("Login refused: target_link_uri is not on this tool")
    LoginState.objects.filter(created_at__lt=timezone.now() - STATE_TTL).delete()
    return url


def validate_launch(request: HttpRequest) -> MessageLaunch:
    """The validated, consumed launch; LaunchRefused with the reason otherwise. Nothing is written but
    the login's `used_at` (so a replay of the same token is refused)."""
    storage = _storage(request)
    launch = MessageLaunch(request, ToolConfig(), launch_data_storage=storage)
    launch.set_public_key_caching(storage, cache_lifetime=JWKS_CACHE_SECONDS)
    launch.set_launch_data_lifetime(LAUNCH_DATA_SECONDS)
    # PyJWT: signature, exp and iat (required here; the library leaves them optional); aud is checked above.
    launch.set_jwt_verify_options({"verify_aud": False, "require": ["exp", "iat"]})  # type: ignore[dict-item]
    try:
        launch.validate()
        launch.consume_login()
    except LtiException as exc:
        raise LaunchRefused(f"Launch refused: {exc}") from exc
    return launch


def public_url(path: str) -> str:
    """An absolute URL on PUBLIC_URL, the address platforms and browsers reach ExamPulse at."""
    return settings.PUBLIC_URL.rstrip("/") + path


def registration_for(issuer: str, client_id: str) -> LtiRegistration | None:
    return LtiRegistration.objects.filter(issuer=issuer, client_id=client_id).first()


def restore_launch(request: HttpRequest, launch_id: str) -> MessageLaunch:
    """A validated launch kept in the cache (deep linking answers it after the instructor's pick)."""
    try:
        launch = MessageLaunch.from_cache(launch_id, request, ToolConfig(), launch_data_storage=_storage(request))
    except LtiException as exc:
        raise LaunchRefused(f"This choice has expired: open the tool again from the LMS ({exc}).", 400) from exc
    return launch
