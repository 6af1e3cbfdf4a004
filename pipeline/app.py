"""The Faust application: the worker process, its producer, timers and the event stream service.
Topics, agents and timers live in their own modules and register on this app; nothing here
touches app.loop, app.producer or app.transport at import."""
from __future__ import annotations

import faust

from pipeline.kafka.admin import CONSUMER_GROUP
from pipeline.kafka.security import faust_credentials
from pipeline.settings import get_settings

settings = get_settings()

app = faust.App(
    # Faust's own id, not the `tablero` group: the event stream service (agents/process.py) owns
    # the partitions of tablero.events through that group.
    f"{CONSUMER_GROUP}-worker",
    broker=f"kafka://{settings.kafka_bootstrap}",
    broker_credentials=faust_credentials(settings),  # TLS / SASL (pipeline/kafka/security.py)
    store="memory://",
    topic_partitions=settings.topic_partitions,
    topic_replication_factor=settings.kafka_replication_factor,
    producer_acks=-1,
    producer_max_request_size=4 * 1024 * 1024,
    # 1 MB per partition batch (Faust's default is 16 KB): a batch's state records then go out in
    # a few produce requests instead of hundreds, and each socket write costs a system call (the
    # pipeline bench: about 25% more events/s); the request cap above still bounds a request
    producer_max_batch_size=1024 * 1024,
    consumer_auto_offset_reset="earliest",
    # Faust's consumer still joins its own group at start (it subscribes to nothing): a static id
    # and a short session let a worker restarted after kill -9 in at once instead of after 60 s
    consumer_group_instance_id=f"{settings.worker_instance_id}-faust",
    broker_session_timeout=8.0,
    broker_heartbeat_interval=1.0,
    web_enabled=False,
    autodiscover=False,
    datadir=str(settings.data_dir / "faust"),
)


def load_modules() -> None:
    """Import the modules that register topics, the event stream and timers."""
    import pipeline.agents.housekeeping  # noqa: F401
    import pipeline.agents.live_publisher  # noqa: F401
    import pipeline.agents.process  # noqa: F401
