"""The Faust application. Topics, tables, agents and timers live in their own modules and
register on this app; nothing here touches app.loop, app.producer or app.transport at import."""
from __future__ import annotations

import faust

from pipeline.kafka_admin import CONSUMER_GROUP
from pipeline.settings import get_settings

settings = get_settings()

app = faust.App(
    CONSUMER_GROUP,
    broker=f"kafka://{settings.kafka_bootstrap}",
    store="memory://",  # state is rebuilt from the compacted changelog topic on start
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=1,
    producer_acks=-1,
    producer_max_request_size=4 * 1024 * 1024,
    consumer_auto_offset_reset="earliest",
    broker_commit_every=100_000,
    broker_commit_interval=1.0,
    # a worker killed -9 is noticed in seconds (the default 60 s stalls the rebalance that
    # hands its partitions to the survivors or to its restarted self)
    broker_session_timeout=8.0,
    broker_heartbeat_interval=1.0,
    stream_buffer_maxsize=65536,
    web_enabled=False,
    autodiscover=False,
    datadir=str(settings.data_dir / "faust"),
    table_standby_replicas=0,
    consumer_max_fetch_size=16 * 1024 * 1024,
)


def load_modules() -> None:
    """Import the modules that register topics, tables, agents and timers."""
    import pipeline.agents.housekeeping  # noqa: F401
    import pipeline.agents.live_publisher  # noqa: F401
    import pipeline.agents.process  # noqa: F401
