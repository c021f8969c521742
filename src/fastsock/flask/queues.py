"""The client manager for a ``message_queue`` URL.

The pub/sub managers themselves belong to :mod:`fastsock.socketio` (python-socketio's names:
``RedisManager``, ``KombuManager``, ``KafkaManager``, ``ZmqManager``). Until a backend is
available there, :class:`PendingQueueManager` stands in: it carries the URL, channel and
``write_only`` flag, never connects, and refuses to emit with a clear error instead of dropping
events silently.
"""

from __future__ import annotations

from typing import Any

from .. import socketio as _sio

#: URL prefixes served by the Redis pub/sub manager (Redis, Valkey, TLS, Sentinel, Unix sockets)
REDIS_PREFIXES = (
    "redis://",
    "rediss://",
    "redis+sentinel://",
    "valkey://",
    "valkeys://",
    "valkey+sentinel://",
    "unix://",
)


def manager_class_name(url: str) -> str:
    """Name of the ``fastsock.socketio`` manager class that serves ``url``."""
    if url.startswith(REDIS_PREFIXES):
        return "RedisManager"
    if url.startswith("kafka://"):
        return "KafkaManager"
    if url.startswith("zmq"):
        return "ZmqManager"
    # amqp:// and every other URL kombu understands
    return "KombuManager"


class PendingQueueManager(_sio.Manager):
    """A message-queue manager whose backend is not available yet (see the module docstring).

    It behaves as the in-memory manager for this process's own clients, and raises
    ``NotImplementedError`` where the queue would be needed (publishing).
    """

    def __init__(self, url: str, channel: str = "flask-socketio", write_only: bool = False,
                 backend: str = "") -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self.write_only = write_only
        self.backend = backend

    def emit(self, *args: Any, **kwargs: Any) -> None:
        """Refuse: publishing needs the queue backend."""
        raise NotImplementedError(
            f"message queue {self.url!r}: fastsock.socketio.{self.backend} is not available yet"
        )


def queue_manager(url: str, channel: str, write_only: bool) -> Any:
    """Build (without connecting) the pub/sub client manager for the message queue at ``url``.

    ``write_only`` is ``True`` for an emitter without a Flask app: it publishes to the queue and
    never listens.
    """
    name = manager_class_name(url)
    manager_class = getattr(_sio, name, None)
    if manager_class is None:
        return PendingQueueManager(url, channel=channel, write_only=write_only, backend=name)
    return manager_class(url, channel=channel, write_only=write_only)
