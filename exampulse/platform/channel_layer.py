"""channels-redis' pub/sub layer, adapted to thousands of sockets per process and to Redis outages.

Three changes, each found by measuring (benchmarks/loadtest.py, tests/faults):

- Sockets' own channels are not subscribed in Redis. Channels gives every consumer a specific
  channel (`new_channel()`) before `connect()`, and the stock layer subscribes it on the spot: a
  Redis round trip per handshake, and with Redis down the handshake failed with HTTP 500. ExamPulse
  reaches sockets only through groups, so a socket channel is a local queue; a `send` to one from
  the same process is delivered locally. Other channels (the health check's) are still subscribed,
  within a bounded time, and a failure is logged rather than raised.
- Publishes are pipelined outside the shard's lock (see `_PipelinedShard`).
- Each event loop gets its own layer, as in the stock class.
"""

from __future__ import annotations

import asyncio
import logging

from channels_redis.pubsub import (
    RedisPubSubChannelLayer,
    RedisPubSubLoopLayer,
    RedisSingleShardConnection,
    _wrap_close,
)

logger = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_S = 0.5
# Consumers' own channels (Channels calls new_channel() with the default "specific." prefix).
SOCKET_CHANNEL_MARK = "specific."


class _PipelinedShard(RedisSingleShardConnection):
    """Publishes go out in pipelines, outside the shard's lock.

    The stock shard holds one asyncio lock around every publish and (un)subscribe, so a process
    makes one Redis round trip at a time and, under load, each live push queues behind all the
    others. Here publishes join a queue that one task writes as a single pipeline per round
    trip: the number of round trips no longer grows with the number of pushes.
    """

    MAX_PIPELINE = 500

    def __init__(self, host, channel_layer) -> None:
        super().__init__(host, channel_layer)
        self._outgoing: list[tuple[str, bytes, asyncio.Future]] = []
        self._writer: asyncio.Task | None = None

    async def publish(self, channel, message):
        future = asyncio.get_running_loop().create_future()
        self._outgoing.append((channel, message, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write())
        await future

    async def _write(self) -> None:
        while self._outgoing:
            batch = self._outgoing[: self.MAX_PIPELINE]
            del self._outgoing[: self.MAX_PIPELINE]
            try:
                self._ensure_redis()
                async with self._redis.pipeline(transaction=False) as pipe:
                    for channel, message, _future in batch:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except Exception as exc:  # every waiting sender hears it; the next batch tries afresh
                for *_rest, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for *_rest, future in batch:
                if not future.done():
                    future.set_result(None)

    async def flush(self):
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        for *_rest, future in self._outgoing:
            future.cancel()
        self._outgoing = []
        await super().flush()


class _ResilientLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_PipelinedShard(shard.host, self) for shard in self._shards]

    async def _subscribe_to_channel(self, channel):
        self.channels[channel] = asyncio.Queue()
        if SOCKET_CHANNEL_MARK in channel:
            # A socket's own channel: ExamPulse reaches sockets through groups only, so a Redis
            # subscription per socket would be a round trip per handshake that nothing uses.
            return
        try:
            await asyncio.wait_for(self._get_shard(channel).subscribe(channel), SUBSCRIBE_TIMEOUT_S)
        except Exception:
            logger.warning("could not subscribe %s (Redis unreachable); group delivery is unaffected", channel)

    async def send(self, channel, message):
        if channel in self.channels and SOCKET_CHANNEL_MARK in channel:
            # In-process delivery to a socket channel (not subscribed in Redis, see above).
            self.channels[channel].put_nowait(self.channel_layer.serialize(message))
            return
        await super().send(channel, message)


class ResilientRedisPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer whose sockets can open while Redis is unreachable."""

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = _ResilientLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
            return layer
