"""`tablero connect asterisk PATH [--follow]`: an Asterisk queue_log -> tablero.events."""
from __future__ import annotations

import signal
import tomllib
from pathlib import Path

import typer
from rich.console import Console

from pipeline.settings import get_settings

err = Console(stderr=True)


def _agent_names(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        err.print(f"[red]error:[/red] --agents {path}: {exc}")
        raise typer.Exit(2)
    table = raw.get("agents", raw)
    bad = [k for k, v in table.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        err.print(f"[red]error:[/red] --agents {path}: the names of {', '.join(map(repr, bad[:5]))} must be "
                  "non-empty strings, e.g. \"PJSIP/201\" = \"Ana Ruiz\"")
        raise typer.Exit(2)
    return {k: v.strip() for k, v in table.items()}


def asterisk(
    path: Path = typer.Argument(..., dir_okay=False, help="The queue_log file (usually /var/log/asterisk/queue_log)."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep reading as the file grows, across rotations, "
                                "like tail -F; stop with Ctrl-C."),
    agents: Path = typer.Option(None, "--agents", exists=True, dir_okay=False,
                                help="TOML file mapping member names to people: \"PJSIP/201\" = \"Ana Ruiz\" "
                                     "(optionally under an agents table)."),
    source: str = typer.Option("asterisk", "--source", help="Name of this PBX in event ids and contact ids "
                               "(give each PBX its own when several feed one Tablero)."),
    from_start: bool = typer.Option(False, "--from-start", help="Ignore the checkpoint and read the file from "
                                    "its first line (event ids deduplicate, nothing is counted twice)."),
) -> None:
    """Publish an Asterisk queue_log (app_queue's pipe format) as contract events.

    Reads from the checkpoint in the data directory (file identity + byte offset), so a restart
    neither loses nor repeats lines; without --follow it stops at the end of the file. Unknown
    verbs are counted and reported; unreadable lines go to the dead letters with file and line.

    Example: tablero connect asterisk /var/log/asterisk/queue_log --follow --agents agents.toml
    """
    from pipeline.connectors.asterisk_file import QueueLogConnector, checkpoint_path
    from pipeline.kafka.admin import DLQ_TOPIC, EVENTS_TOPIC
    from pipeline.kafka.batch_producer import BatchProducer, StoppedWaitingForKafka

    s = get_settings()
    if not source or "|" in source or len(source) > 40:
        err.print("[red]error:[/red] --source must be 1 to 40 characters without '|'")
        raise typer.Exit(2)
    if not follow and not path.exists():
        err.print(f"[red]error:[/red] PATH {str(path)!r} does not exist (with --follow, Tablero waits for it)")
        raise typer.Exit(2)
    names = _agent_names(agents)
    cp = checkpoint_path(s.data_dir, path, source)
    try:
        producer = BatchProducer(s.kafka_bootstrap).start()
    except Exception as exc:  # noqa: BLE001 - kafka-python raises several kinds
        err.print(f"[red]error:[/red] Kafka at {s.kafka_bootstrap} (TABLERO_KAFKA) is not reachable: {exc}")
        raise typer.Exit(1)
    try:
        connector = QueueLogConnector(path, producer, events_topic=EVENTS_TOPIC, dlq_topic=DLQ_TOPIC, checkpoint=cp,
                                      max_event_bytes=s.max_event_bytes, source=source, agent_names=names,
                                      from_start=from_start)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)
    stop = {"now": False}

    def _stop(signum, frame):  # finish the batch in hand, save the checkpoint, report
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    err.print(f"reading {path} (checkpoint {cp})" + (", following" if follow else ""))
    producer.should_stop = lambda: stop["now"]
    try:
        rep = connector.run(follow=follow, should_stop=lambda: stop["now"])
    except StoppedWaitingForKafka as exc:
        err.print(f"[yellow]stopped:[/yellow] {exc}; the checkpoint stays before those lines, the next start "
                  "sends them again")
        raise typer.Exit(1)
    finally:
        if stop["now"]:
            producer.discard()  # told to stop: do not wait on Kafka again for what was not acknowledged
        producer.close()
    m = connector.mapper
    for reason in rep.dead_letter_samples:
        err.print(f"[yellow]dead letter[/yellow]: {reason}")
    err.print(f"read {rep.lines:,} lines in {rep.seconds:.1f}s ({rep.lines_per_s:,.0f} lines/s); "
              f"sent {rep.events:,} events; dead letters {rep.dead_letters:,}; "
              f"rotations {rep.rotations}, truncations {rep.truncations}")
    if rep.types:
        err.print("events: " + ", ".join(f"{t} {n:,}" for t, n in sorted(rep.types.items())))
    ignored = ", ".join(f"{verb} {n:,}" for verb, n in m.ignored.most_common())
    err.print(f"ignored: {ignored or 'none'}")
    if m.missed_rings:
        err.print("missed rings: " + ", ".join(f"{a} {n:,}" for a, n in m.missed_rings.most_common()))
    if m.hold_mismatches or m.synthesized:
        err.print(f"CONNECT hold times that disagree with ENTERQUEUE: {m.hold_mismatches}; calls first seen "
                  f"mid-call (created synthesized): {m.synthesized}")
    err.print(f"calls still in a queue or connected: {m.open_calls}")


def register_connect(group: typer.Typer) -> None:
    group.command("asterisk")(asterisk)
