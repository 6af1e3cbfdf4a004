"""`tablero dlq show|replay`: read the dead letters, send fixed or now-valid ones back."""
from __future__ import annotations

from pathlib import Path

import orjson
import typer
from kafka import KafkaConsumer, TopicPartition
from rich.console import Console
from rich.table import Table

from pipeline.schemas.dead_letters import DeadLetter, first_of_each
from pipeline.kafka.admin import DLQ_TOPIC
from pipeline.settings import get_settings

dlq_app = typer.Typer(help="Dead letters of tablero.events.\n\nExample: tablero dlq show --code unknown_type",
                      no_args_is_help=True)
err = Console(stderr=True)


def read_dead_letters(bootstrap: str, limit: int | None = None):
    """(dlq offset, dead letter) in topic order, each original once (a crash between a landing's
    dead letters and its commit writes them twice: see pipeline.schemas.dead_letters)."""
    return first_of_each(_read_all(bootstrap, limit))


def _read_all(bootstrap: str, limit: int | None = None):
    from pipeline.kafka.security import client_kwargs

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=3000,
                             **client_kwargs("kafka-python"))
    try:
        tp = TopicPartition(DLQ_TOPIC, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp])[tp]
        n = 0
        for msg in consumer:
            yield msg.offset, DeadLetter.from_record(msg.key, msg.value, msg.headers)
            n += 1
            if msg.offset + 1 >= end or (limit and n >= limit):
                break
    finally:
        consumer.close()


@dlq_app.command("show")
def show(code: str = typer.Option(None, "--code", help="Only this rejection code (e.g. unknown_contact)."),
         limit: int = typer.Option(100, "--limit", min=1),
         as_json: bool = typer.Option(False, "--json", help="NDJSON output (one dead letter a line), to fix and replay.")) -> None:
    """List dead letters with their reason and source partition/offset.

    Example: tablero dlq show --code invalid_field --json > fix.ndjson
    """
    s = get_settings()
    table = Table("dlq offset", "code", "field", "reason", "source", "original (start)")
    shown = 0
    for offset, dl in read_dead_letters(s.kafka_bootstrap):
        if code and dl.code != code:
            continue
        if as_json:
            print(orjson.dumps({"dlq_offset": offset, "code": dl.code, "reason": dl.reason, "field": dl.field,
                                "source_partition": dl.partition, "source_offset": dl.offset,
                                "source_file": dl.source_file, "source_line": dl.source_line,
                                "original": dl.value.decode("utf-8", errors="replace")}).decode())
        else:
            table.add_row(str(offset), dl.code, dl.field or "", dl.reason[:80], dl.source,
                          dl.value[:60].decode("utf-8", errors="replace"))
        shown += 1
        if shown >= limit:
            break
    if not as_json:
        Console().print(table)
        err.print(f"{shown} dead letters shown")


@dlq_app.command("replay")
def replay(file: Path = typer.Option(None, "--file", help="NDJSON of fixed events (or `dlq show --json` lines, "
                                     "whose `original` is sent)."),
           code: str = typer.Option(None, "--code", help="Re-send the originals with this code unchanged "
                                    "(e.g. unknown_contact once the contact exists).")) -> None:
    """Send events back to tablero.events; ids deduplicate, so replaying twice is harmless.

    Example: tablero dlq replay --code unknown_contact
    """
    from pipeline.kafka.publisher import publish_lines

    s = get_settings()
    if not file and not code:
        err.print("[red]error:[/red] give --file FILE or --code CODE")
        raise typer.Exit(2)
    if file:
        def lines():
            for raw in file.open("rb"):
                if not raw.strip():
                    continue
                obj = orjson.loads(raw)
                yield obj["original"].encode() if isinstance(obj, dict) and "original" in obj and "dlq_offset" in obj else raw
    else:
        def lines():
            for _, dl in read_dead_letters(s.kafka_bootstrap):
                if dl.code == code:
                    yield dl.value
    rep = publish_lines(lines(), s.kafka_bootstrap, max_event_bytes=s.max_event_bytes)
    for lineno, r in rep.rejections[:20]:
        err.print(f"[yellow]item {lineno}[/yellow]: still invalid: {r.code}: {r.reason}")
    err.print(f"replayed {rep.sent}; still invalid {rep.rejected}")


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")
