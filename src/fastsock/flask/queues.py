"""The client manager for a ``message_queue`` URL."""

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


def queue_manager(url: str, channel: str, write_only: bool) -> Any:
    """Build (without connecting) the pub/sub client manager for the message queue at ``url``.

    ``write_only`` is ``True`` for an emitter without a Flask app: it publishes to the queue and
    never listens.
    """
    name = manager_class_name(url)
    manager_class = getattr(_sio, name, None)
    if manager_class is None:
        raise ValueError(f"message queue {url!r} needs fastsock.socketio.{name}, not available")
    return manager_class(url, channel=channel, write_only=write_only)
