"""The Redis pub/sub layer as ExamPulse configures it (exampulse.platform.channel_layer), against a real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from redis import asyncio as aioredis

from exampulse.platform.channel_layer import ResilientRedisPubSubChannelLayer


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


class TestParallelRunsOnOneRedis:
    """Each test process (xdist worker) has its own REDIS_KEY_PREFIX (tests/conftest.py): the workers'
    databases hand out the same ids, so their groups have the same names."""

    async def test_a_process_with_another_prefix_does_not_hear_our_groups(self, requires_redis):
        from channels.layers import get_channel_layer

        ours = get_channel_layer()
        # What a process without a prefix of its own uses: channels_redis' default.
        theirs = ResilientRedisPubSubChannelLayer(hosts=[requires_redis])
        try:
            mine, other = await ours.new_channel(), await theirs.new_channel()
            await ours.group_add("exam.1.proctors", mine)
            await theirs.group_add("exam.1.proctors", other)

            await theirs.group_send("exam.1.proctors", {"type": "push", "from": "them"})
            await ours.group_send("exam.1.proctors", {"type": "push", "from": "us"})

            assert await asyncio.wait_for(ours.receive(mine), 2) == {"type": "push", "from": "us"}
            assert await asyncio.wait_for(theirs.receive(other), 2) == {"type": "push", "from": "them"}
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ours.receive(mine), 0.3)
        finally:
            await ours.group_discard("exam.1.proctors", mine)
            await theirs.flush()

    def test_clearing_the_cache_between_tests_leaves_other_processes_keys(self, requires_redis):
        from django.core.cache import cache
        from redis import Redis

        from tests.conftest import _clear_cache

        client = Redis.from_url(requires_redis)
        try:
            client.set("another-run:1:throttle", "7")
            cache.set("throttle", "3")
            _clear_cache()
            assert cache.get("throttle") is None
            assert client.get("another-run:1:throttle") == b"7"
        finally:
            client.delete("another-run:1:throttle")
            client.close()
