"""LiveHub and filter_view: visibility (nothing leaks), latest-wins mailboxes, non-blocking publish."""
from __future__ import annotations

import asyncio
import inspect

import orjson
import pytest

from _live_sample import ADMIN, BILLING_ONLY, make_view
from supervisor_api.live_hub import LiveHub, aggregate, filter_view


def test_scoped_principal_never_sees_hidden_queue_in_rows_totals_or_channels():
    view = make_view(billing_waiting=3, secret_waiting=7)
    out = filter_view(view, BILLING_ONLY)
    assert [r["queue"] for r in out["queues"]] == ["billing"]
    assert "secret" not in orjson.dumps(out).decode()
    # totals and channels recomputed from the visible row only
    assert out["total"]["waiting"] == 3
    assert out["total"]["oldest_wait_s"] == 31.2
    assert out["total"]["today"]["offered"] == 10
    assert [c["channel"] for c in out["channels"]] == ["voice"]
    assert out["channels"][0]["waiting"] == 3
    assert all(i["contact"].startswith("billing") for i in out["total"]["waiting_items"])
    # agents cannot be scoped to queues: hidden for scoped principals
    assert out["agents"] == [] and out["agent_states"] == {} and out["agents_hidden"] is True


def test_subscription_to_invisible_queue_is_silently_empty():
    out = filter_view(make_view(), BILLING_ONLY, queues=["secret-vip"])
    assert out["queues"] == [] and out["channels"] == []
    assert out["total"]["waiting"] == 0 and out["total"]["today"]["offered"] == 0
    assert "secret" not in orjson.dumps(out).decode()
    # identical to subscribing to a queue that does not exist at all
    assert out == filter_view(make_view(), BILLING_ONLY, queues=["no-such-queue"]) | {
        "generated_at": out["generated_at"]}


def test_unscoped_unfiltered_passes_pipeline_aggregates_through():
    view = make_view()
    out = filter_view(view, ADMIN)
    assert out["queues"] == view["queues"]
    assert out["total"] is view["total"] and out["channels"] is view["channels"]
    assert out["agents"] == view["agents"] and "agents_hidden" not in out


def test_channel_subscription_recomputes_total_and_service_level():
    out = filter_view(make_view(), ADMIN, channels=["chat"])
    assert [(r["queue"], r["channel"]) for r in out["queues"]] == [("secret-vip", "chat")]
    assert out["total"]["waiting"] == 1
    assert [c["channel"] for c in out["channels"]] == ["chat"]
    # subscription narrowing is not a security scope: agents stay for an unscoped principal
    assert len(out["agents"]) == 2


def test_aggregate_service_level_follows_glossary_formula():
    rows = make_view()["queues"][:2]
    agg = aggregate(rows)
    t = agg["today"]
    # billing: 8 answered, 2 abandoned, 1 short, 6 within; secret: 90, 10, 0, 80
    assert t["answered"] == 98 and t["abandoned"] == 12 and t["short_abandoned"] == 1
    assert t["service_level"] == pytest.approx(86 / (98 + 12 - 1))
    assert t["asa_s"] == pytest.approx((8 * 8.0 + 90 * 5.0) / 98)
    assert agg["oldest_wait_s"] == 999.0


def test_empty_hub_gives_empty_view():
    out = filter_view(None, BILLING_ONLY)
    assert out["queues"] == [] and out["total"]["waiting"] == 0


async def test_subscriber_gets_snapshot_then_updates():
    hub = LiveHub(heartbeat_s=3600)
    hub.publish(make_view(billing_waiting=1))
    sub = hub.subscribe(BILLING_ONLY)
    first = orjson.loads(await sub.next_message())
    assert first["type"] == "snapshot" and first["view"]["total"]["waiting"] == 1
    hub.publish(make_view(billing_waiting=2))
    second = orjson.loads(await sub.next_message())
    assert second["type"] == "update" and second["view"]["total"]["waiting"] == 2


async def test_slow_client_skips_to_newest_view():
    hub = LiveHub(heartbeat_s=3600)
    sub = hub.subscribe(ADMIN)
    await sub.next_message()  # snapshot of the empty hub
    for n in range(1, 101):
        hub.publish(make_view(billing_waiting=n))
    msg = orjson.loads(await sub.next_message())
    assert msg["type"] == "update"
    assert msg["view"]["queues"][0]["waiting"] == 100  # newest, not the first missed one
    assert not sub.pending()  # nothing queued behind it: single-slot mailbox


async def test_stuck_client_does_not_block_publisher_or_other_clients():
    hub = LiveHub(heartbeat_s=3600)
    assert not inspect.iscoroutinefunction(hub.publish)  # publish can never await a client
    stuck = hub.subscribe(ADMIN)
    fast = hub.subscribe(ADMIN)
    never = asyncio.Event()

    async def stuck_client():
        await stuck.next_message()
        await never.wait()  # a socket whose send never completes

    stuck_task = asyncio.create_task(stuck_client())
    await fast.next_message()
    seen = []
    for n in range(1, 51):
        hub.publish(make_view(billing_waiting=n))
        seen.append(orjson.loads(await fast.next_message())["view"]["queues"][0]["waiting"])
    assert seen == list(range(1, 51))  # the fast client got every update
    assert not stuck_task.done()
    # the stuck client, once it reads again, gets only the newest view
    assert orjson.loads(await stuck.next_message())["view"]["queues"][0]["waiting"] == 50
    stuck_task.cancel()


async def test_publish_with_many_idle_subscribers_does_no_per_client_work():
    hub = LiveHub(heartbeat_s=3600)
    subs = [hub.subscribe(BILLING_ONLY if i % 2 else ADMIN) for i in range(1000)]
    for n in range(200):
        hub.publish(make_view(billing_waiting=n))
    assert hub.serializations == 0  # nobody read: nothing encoded, nothing queued
    for s in subs:
        await s.next_message()
    assert hub.serializations == 2  # one encode per filter group, not per client
    for s in subs:
        s.close()
    assert hub.subscriber_count == 0


async def test_subscription_change_sends_new_snapshot_and_heartbeat_when_idle():
    hub = LiveHub(heartbeat_s=0.05)
    hub.publish(make_view())
    sub = hub.subscribe(ADMIN)
    assert orjson.loads(await sub.next_message())["type"] == "snapshot"
    sub.subscribe(queues=["billing"], channels=None)
    msg = orjson.loads(await sub.next_message())
    assert msg["type"] == "snapshot" and [r["queue"] for r in msg["view"]["queues"]] == ["billing"]
    hb = orjson.loads(await sub.next_message())
    assert hb["type"] == "heartbeat" and isinstance(hb["t"], float)
