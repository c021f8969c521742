"""Exceptions raised by fastsock."""


class PacketError(ValueError):
    """Malformed or over-limit data received from a peer.

    Every decoder in fastsock (Engine.IO packets and payloads, Socket.IO packets, WebSocket
    frames, JSON) raises this one type for bad input; nothing else escapes a decoder.
    """


class WebSocketError(PacketError):
    """A WebSocket protocol violation; ``close_code`` is the RFC 6455 code to close with."""

    def __init__(self, message: str, close_code: int = 1002) -> None:
        super().__init__(message)
        self.close_code = close_code
