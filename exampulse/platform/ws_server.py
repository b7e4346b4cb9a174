"""Options for the WebSocket server underneath Channels that daphne does not expose."""

from __future__ import annotations

from typing import Any


def close_failed_sockets_with_a_code() -> None:
    """Make daphne close a failed socket with a close code (1009, 1007, 1002...) instead of dropping TCP.

    Daphne refuses messages over `--websocket-max-message-size` (1 MiB by default) inside
    autobahn, before the application sees them. Autobahn then "fails the connection", and its
    server default `failByDrop=True` aborts the TCP connection without a close frame: the client
    sees 1006 and cannot tell a too-large frame from a crash. With `failByDrop=False` autobahn
    sends the close frame first (1009 "message too big"), then drops the socket if the client does
    not answer within `closeHandshakeTimeout`. Daphne has no flag for it, so its factory is wrapped
    here; the setting is autobahn's documented protocol option. Safe to call more than once, and a
    no-op where daphne is not installed (another ASGI server sends its own codes).
    """
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:
        return
    if getattr(WebSocketFactory, "_exampulse_close_with_code", False):
        return
    original_init = WebSocketFactory.__init__

    def init_then_close_with_code(self: WebSocketFactory, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = init_then_close_with_code
    WebSocketFactory._exampulse_close_with_code = True
