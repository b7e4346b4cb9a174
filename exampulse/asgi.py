"""ASGI entry point: HTTP through Django, WebSocket through Channels with JWT auth."""

import gc
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "exampulse.settings")

from django.core.asgi import get_asgi_application

# Django must be set up before anything imports models (consumers, middleware).
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.ws_auth import JwtAuthMiddlewareStack  # noqa: E402
from exampulse.platform.ws_origin import OriginValidator  # noqa: E402
from exampulse.platform.ws_server import close_failed_sockets_with_a_code  # noqa: E402
from exampulse.ws_routing import websocket_urlpatterns  # noqa: E402

# Daphne imports this module before it builds its WebSocket factory, so the option applies to
# `python -m daphne exampulse.asgi:application` however it is launched.
close_failed_sockets_with_a_code()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": OriginValidator(JwtAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# A server process holds thousands of long-lived socket objects, and CPython's full collections
# walked them all: pauses of 100-270 ms every ~15 s under load, each a latency spike for every
# socket (measured with benchmarks/loadtest.py). Start-up objects (Django, numpy, scikit-learn)
# are frozen out of collection, and the youngest generation is collected less often than
# CPython's 700. Not too seldom: a join flood leaves the sockets' new state in the middle
# generation, and with 20000 a collection of it took 70-100 ms just after an exam's first minute
# (a p99 of 106-119 ms in that second); 5000 keeps those under 30 ms at the same CPU per event
# (GC_LOG_PAUSES_MS, `--fresh-joins`, docs/benchmarks.md).
gc.freeze()
gc.set_threshold(int(os.environ.get("GC_GEN0_THRESHOLD") or 5000), 10, 20)

if os.environ.get("GIL_SWITCH_INTERVAL_MS"):
    # How long a thread coming back from the database may wait for the GIL while the event loop
    # runs Python (CPython's default is 5 ms, per hand-over).
    sys.setswitchinterval(float(os.environ["GIL_SWITCH_INTERVAL_MS"]) / 1000)

if os.environ.get("GC_LOG_PAUSES_MS"):
    # Diagnostics: log every collection slower than this many milliseconds.
    import logging
    import time

    _gc_log, _gc_limit, _gc_started = logging.getLogger("exampulse.gc"), float(os.environ["GC_LOG_PAUSES_MS"]), [0.0]

    def _gc_timer(phase: str, info: dict) -> None:
        if phase == "start":
            _gc_started[0] = time.perf_counter()
            return
        pause = (time.perf_counter() - _gc_started[0]) * 1000
        if pause >= _gc_limit:
            _gc_log.warning("gc generation %s: %.1f ms, %s collected", info["generation"], pause, info["collected"])

    gc.callbacks.append(_gc_timer)
