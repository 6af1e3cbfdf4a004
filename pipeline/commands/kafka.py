"""`tablero kafka start|stop|status`: the local single-node broker."""
from __future__ import annotations

import typer
from rich.console import Console

from pipeline.kafka.admin import TopicMismatch, ensure_topics, reachable
from pipeline.kafka.local_broker import KafkaSetupError, LocalKafka
from pipeline.settings import get_settings

kafka_app = typer.Typer(help="Run a local single-node Kafka (KRaft) from Maven Central jars.\n\n"
                        "Example: tablero kafka start && tablero kafka status", no_args_is_help=True)
err = Console(stderr=True)


def local_broker() -> LocalKafka:
    s = get_settings()
    return LocalKafka(s.data_dir, s.kafka_port)


@kafka_app.command("start")
def start() -> None:
    """Start the local broker (downloads Kafka once) and create Tablero's topics.

    Example: tablero kafka start
    """
    s = get_settings()
    if not s.uses_local_kafka:
        err.print(f"TABLERO_KAFKA={s.kafka} is set: using that broker, nothing to start.")
        raise typer.Exit(0)
    try:
        took = local_broker().start(progress=err.print)
    except KafkaSetupError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1)
    try:
        created = ensure_topics(s.kafka_bootstrap, s.topic_partitions)
    except TopicMismatch as exc:
        err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(2) from None
    err.print(f"Kafka up on {s.kafka_bootstrap} in {took:.1f}s" + (f"; created {', '.join(created)}" if created else ""))


@kafka_app.command("stop")
def stop() -> None:
    """Stop the local broker. Example: tablero kafka stop"""
    err.print("stopped" if local_broker().stop() else "not running")


@kafka_app.command("status")
def status() -> None:
    """Is the broker reachable? Example: tablero kafka status"""
    s = get_settings()
    ok, why = reachable(s.kafka_bootstrap)
    pid = local_broker().pid() if s.uses_local_kafka else None
    err.print(f"{s.kafka_bootstrap}: " + ("[green]up[/green]" if ok else f"[red]down[/red] {why}")
              + (f" (local pid {pid})" if pid else ""))
    raise typer.Exit(0 if ok else 1)


def register(app: typer.Typer) -> None:
    app.add_typer(kafka_app, name="kafka")
