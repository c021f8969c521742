"""fastsock: a drop-in, high-throughput replacement for Flask-SocketIO."""

from ._kernels import COMPILED, COMPILED_KERNELS
from .exceptions import PacketError, WebSocketError

__version__ = "0.1.0"

__all__ = [
    "COMPILED",
    "COMPILED_KERNELS",
    "PacketError",
    "WebSocketError",
    "__version__",
]
