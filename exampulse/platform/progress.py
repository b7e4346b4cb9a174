"""Progress bars for management commands: drawn on a terminal, never into logs, pipes or tests.

Two things kept the bars of `rescore`, `purge_events` and `import_roster` from showing:
- `purge_events` and `import_roster` drew on the command's `self.stderr`, Django's OutputWrapper,
  which ends every write with a newline (and colours it as an error on a terminal): each refresh of
  the bar became a red line of its own. The bar goes to the stream beneath the wrapper instead.
- A terminal that reports zero columns (a pseudo-terminal nobody gave a size: `script`, `docker exec`
  without a tty size, some CI runners) made tqdm draw an empty bar: only "\\r" reached the screen. The
  width is measured here and falls back to 80 columns.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import IO, Any

from tqdm import tqdm

FALLBACK_COLUMNS = 80


def _raw(stream: Any) -> IO[str]:
    # Django's OutputWrapper keeps the real stream in `_out`.
    return getattr(stream, "_out", stream)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _columns(stream: IO[str]) -> int:
    try:
        columns = os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        columns = 0
    return columns if columns > 0 else FALLBACK_COLUMNS


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    stream: Any,
    total: int | None = None,
    unit: str = "it",
    desc: str | None = None,
    enabled: bool = True,
) -> tqdm:
    """A tqdm bar on `stream` (a command's `self.stderr`) when that is a terminal and `enabled`
    (a command's --no-progress turns it off); otherwise a silent tqdm that only counts."""
    raw = _raw(stream)
    shown = enabled and _is_terminal(raw)
    return tqdm(
        iterable,
        total=total,
        unit=unit,
        desc=desc,
        file=raw,
        disable=not shown,
        ncols=_columns(raw) if shown else None,
    )
