"""channels-redis' pub/sub layer, made to survive a Redis outage at socket open.

Channels gives every consumer a specific channel (`new_channel()`) before `connect()` runs, and the
pub/sub layer subscribes it in Redis on the spot. With Redis down that raises, and the handshake
fails with HTTP 500 (tests/faults/test_redis_outage.py found it): a student whose connection dropped
during an outage could not come back, even though storing and acknowledging events needs only the
database. ExamPulse never sends to a specific channel (all live traffic goes through groups), so
the subscription is attempted within a bounded time and a failure is logged, not raised.
"""

from __future__ import annotations

import asyncio
import logging

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, _wrap_close

logger = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT_S = 0.5


class _ResilientLoopLayer(RedisPubSubLoopLayer):
    async def _subscribe_to_channel(self, channel):
        self.channels[channel] = asyncio.Queue()
        try:
            await asyncio.wait_for(self._get_shard(channel).subscribe(channel), SUBSCRIBE_TIMEOUT_S)
        except Exception:
            logger.warning("could not subscribe %s (Redis unreachable); group delivery is unaffected", channel)


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
