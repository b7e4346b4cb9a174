"""The Redis pub/sub layer as ExamPulse configures it (exampulse.channel_layer), against a real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis

from exampulse.channel_layer import ResilientRedisPubSubChannelLayer


@pytest.fixture
async def layer(requires_redis):
    layer = ResilientRedisPubSubChannelLayer(hosts=[requires_redis], prefix=f"test{uuid.uuid4().hex[:8]}")
    yield layer
    await layer.flush()


async def subscriptions(redis_url: str, prefix: str) -> list[str]:
    client = aioredis.from_url(redis_url)
    try:
        return [name.decode() for name in await client.pubsub_channels(f"{prefix}*")]
    finally:
        await client.aclose()


class TestSocketChannels:
    async def test_a_socket_channel_is_not_subscribed_in_redis_but_takes_local_sends(self, layer, requires_redis):
        channel = await layer.new_channel()
        await layer.group_add("room", channel)

        names = await subscriptions(requires_redis, layer._get_layer().prefix)
        assert not any("specific." in name for name in names)
        assert any(name.endswith("__group__room") for name in names)

        await layer.send(channel, {"type": "direct", "n": 1})
        assert await asyncio.wait_for(layer.receive(channel), 2) == {"type": "direct", "n": 1}

    async def test_other_channels_still_round_trip_through_redis(self, layer):
        channel = await layer.new_channel("health.")
        await layer.send(channel, {"type": "health.ping"})
        assert await asyncio.wait_for(layer.receive(channel), 2) == {"type": "health.ping"}


class TestPipelinedPublishes:
    async def test_many_concurrent_group_sends_all_arrive_in_order(self, layer):
        channel = await layer.new_channel()
        await layer.group_add("exam.1.proctors", channel)

        await asyncio.gather(*(layer.group_send("exam.1.proctors", {"type": "push", "n": n}) for n in range(300)))

        received = [await asyncio.wait_for(layer.receive(channel), 2) for _ in range(300)]
        assert [message["n"] for message in received] == list(range(300))

    async def test_each_send_to_an_unreachable_redis_fails_its_sender_rather_than_hanging(self):
        dead = ResilientRedisPubSubChannelLayer(hosts=["redis://127.0.0.1:1/0"])
        with pytest.raises(Exception):  # noqa: B017,PT011 - whatever redis-py raises for a refused connection
            await asyncio.wait_for(dead.group_send("g", {"type": "push"}), 5)
        with pytest.raises(Exception):  # noqa: B017,PT011
            await asyncio.wait_for(dead.group_send("g", {"type": "push"}), 5)
        await dead.flush()
