"""ExamPulse's ASGI application with a census of the garbage the cyclic collector finds.

Serve it instead of exampulse.asgi to learn which objects end up in reference cycles under a real
load (the collector's pauses are latency for every socket of the process):

    GC_CENSUS_PATH=var/loadtest/gc-census.json \\
      .venv/bin/python -m benchmarks.loadtest --product-app benchmarks.gc_census:application ...

Every collection keeps what it found (gc.DEBUG_SAVEALL); a background thread counts it by type and
by the code that made it (frames, functions, coroutines, tasks), empties gc.garbage, and rewrites
the JSON file every few seconds. Diagnostics only: never serve this in production.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import time
from collections import Counter

from exampulse.asgi import application  # noqa: F401 - what daphne serves

CENSUS_PATH = os.environ.get("GC_CENSUS_PATH", "var/loadtest/gc-census.json")
by_type: Counter[str] = Counter()
by_origin: Counter[str] = Counter()
started = time.monotonic()


def _origin(item: object) -> str | None:
    kind = type(item).__name__
    code = None
    if kind == "frame":
        code = item.f_code  # type: ignore[attr-defined]
    elif kind == "function":
        code = item.__code__  # type: ignore[attr-defined]
    elif kind == "coroutine":
        code = item.cr_code  # type: ignore[attr-defined]
    elif kind in ("Task", "_asyncio.Task"):
        coro = item.get_coro()  # type: ignore[attr-defined]
        code = getattr(coro, "cr_code", None)
    if code is None:
        return None
    where = code.co_filename.split("site-packages/")[-1]
    return f"{kind} {code.co_name} ({where}:{code.co_firstlineno})"


def _count() -> None:
    items = gc.garbage[:]
    del gc.garbage[: len(items)]
    for item in items:
        cls = type(item)
        by_type[f"{cls.__module__}.{cls.__qualname__}"] += 1
        origin = _origin(item)
        if origin:
            by_origin[origin] += 1
    del items


def _census_loop() -> None:
    while True:
        time.sleep(3)
        _count()
        report = {
            "seconds": round(time.monotonic() - started, 1),
            "collections": gc.get_stats(),
            "by_type": by_type.most_common(60),
            "by_origin": by_origin.most_common(60),
        }
        with open(CENSUS_PATH, "w") as handle:
            json.dump(report, handle, indent=1)


gc.set_debug(gc.DEBUG_SAVEALL)
threading.Thread(target=_census_loop, name="gc-census", daemon=True).start()
