"""`tablero simulate`: a simulated contact centre publishing contract-v1 events."""
from __future__ import annotations

import re
import sys
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import IO, Iterable, Iterator
from zoneinfo import ZoneInfo

import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline.settings import get_settings

err = Console(stderr=True)

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

HELP = """Simulate a contact centre (voice, chat, email queues; agents with shifts and breaks) and
publish its events to Kafka (topic tablero.events, key = subject), or write them as NDJSON.

Same --seed and --start give byte-identical events. Events come out in event-time order.

Examples:

  tablero simulate --duration 8h --speed 10        (a working day in 48 minutes, to Kafka)

  tablero simulate --start 2024-03-01T00:00 --duration 30d --speed max --out month.ndjson
"""


def parse_duration(text: str) -> float:
    """'8h', '30d', '1h30m', '90s', '2w' or plain seconds -> seconds."""
    s = text.strip().lower()
    if re.fullmatch(r"\d+(\.\d+)?", s):
        seconds = float(s)
    else:
        pos, seconds = 0, 0.0
        for m in _DURATION.finditer(s):
            if m.start() != pos:
                break
            seconds += float(m.group(1)) * _UNIT_S[m.group(2)]
            pos = m.end()
        if pos != len(s) or not s:
            raise typer.BadParameter(f"{text!r} is not a duration; use e.g. 8h, 30d, 1h30m, 90s",
                                     param_hint="--duration")
    if seconds <= 0:
        raise typer.BadParameter("must be greater than zero", param_hint="--duration")
    return seconds


def parse_speed(text: str) -> float:
    """Simulated seconds per real second; 0 or 'max' = as fast as possible (returned as 0)."""
    s = text.strip().lower()
    if s in ("max", "0", "inf"):
        return 0.0
    try:
        v = float(s)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a number or 'max'", param_hint="--speed") from None
    if v < 0 or v != v:
        raise typer.BadParameter("must be >= 0 (0 or 'max': as fast as possible)", param_hint="--speed")
    return v


def parse_start(text: str | None, tz: str) -> datetime:
    if not text or text.strip().lower() == "now":
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not an ISO date-time; use e.g. 2024-03-04T08:00:00Z",
                                 param_hint="--start") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt


def paced(events: Iterable[dict], *, t0: float, speed: float, rate: float | None,
          clock=time.monotonic, sleep=time.sleep) -> Iterator[dict]:
    """Release each event when its event time arrives at `speed` simulated seconds per real
    second (speed 0: immediately), and at most `rate` events per second."""
    start = clock()
    n = 0
    for e in events:
        due = 0.0
        if speed > 0:
            ev_t = datetime.fromisoformat(e["time"].replace("Z", "+00:00")).timestamp()
            due = (ev_t - t0) / speed
        if rate:
            due = max(due, n / rate)
        ahead = due - (clock() - start)
        if ahead > 0:
            sleep(ahead)
        n += 1
        yield e


def _sink_file(path: str) -> IO[bytes]:
    return sys.stdout.buffer if path == "-" else open(path, "wb")


def register(app: typer.Typer) -> None:
    @app.command("simulate", help=HELP)
    def simulate_cmd(
        seed: int = typer.Option(1, "--seed", help="Random seed; same seed and start -> same events."),
        start: str = typer.Option(None, "--start", help="Simulated start, ISO date-time (naive = site "
                                  "time zone TABLERO_SITE_TZ). Default: now.", show_default=False),
        duration: str = typer.Option("8h", "--duration", help="Simulated span: 8h, 30d, 1h30m, 90s."),
        speed: str = typer.Option("max", "--speed", help="Simulated seconds per real second; 1 = real "
                                  "time, 60 = an hour a minute, 0 or max = as fast as possible."),
        rate: float = typer.Option(None, "--rate", help="Cap events per second.", show_default=False),
        out: str = typer.Option(None, "--out", help="Write NDJSON to FILE (- = stdout) instead of "
                                "publishing to Kafka.", show_default=False),
        topic: str = typer.Option(None, "--topic", help="Kafka topic to publish to (default: the "
                                  "pipeline's events topic, tablero.events with TABLERO_KAFKA_NAMESPACE).",
                                  show_default=False),
        tz: str = typer.Option(None, "--tz", help="Site time zone for the intraday curves and shifts "
                               "(default TABLERO_SITE_TZ).", show_default=False),
        scale: float = typer.Option(1.0, "--scale", min=0.01, max=1000,
                                    help="Multiply every queue's volume and every agent group's size."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    ) -> None:
        from pydantic import ValidationError

        from pipeline.simulator import SimConfig, simulate

        settings = get_settings()
        tz = tz or settings.site_tz
        try:
            ZoneInfo(tz)
        except Exception:
            raise typer.BadParameter(f"unknown IANA time zone {tz!r}", param_hint="--tz") from None
        if rate is not None and rate <= 0:
            raise typer.BadParameter("must be > 0", param_hint="--rate")
        seconds = parse_duration(duration)
        spd = parse_speed(speed)
        begin = parse_start(start, tz)
        try:
            cfg = SimConfig(seed=seed, start=begin, duration_s=seconds, tz=tz).scaled(scale)
        except ValidationError as exc:
            e0 = exc.errors()[0]
            opt = {"duration_s": "--duration", "seed": "--seed", "start": "--start", "tz": "--tz"}.get(
                str(e0["loc"][0]) if e0["loc"] else "", "--duration")
            raise typer.BadParameter(e0["msg"], param_hint=opt) from None

        t0 = cfg.start_epoch
        stream = paced(simulate(cfg), t0=t0, speed=spd, rate=rate)
        progress = (nullcontext() if quiet else
                    Progress(TextColumn("[bold]simulating"), BarColumn(),
                             TextColumn("{task.fields[sim]}"), TextColumn("{task.fields[n]:,} events"),
                             TimeElapsedColumn(), console=err, transient=False))
        producer = None
        sink = None
        if out is None:
            from kafka.errors import KafkaError

            from pipeline.kafka.admin import EVENTS_TOPIC, TopicMismatch, ensure_topics
            from pipeline.kafka.publisher import make_producer

            bootstrap = settings.kafka_bootstrap
            topic = topic or EVENTS_TOPIC
            try:
                if topic == EVENTS_TOPIC:
                    ensure_topics(bootstrap, settings.topic_partitions)
                producer = make_producer(bootstrap)
            except TopicMismatch as exc:
                err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
                raise typer.Exit(2) from None
            except (KafkaError, OSError, ValueError) as exc:
                err.print(f"[red]error:[/red] Kafka at {bootstrap} (TABLERO_KAFKA) is not reachable: {exc}. "
                          "Start it with `tablero kafka start`, or write a file with --out FILE.ndjson.")
                raise typer.Exit(1) from None
        else:
            try:
                sink = _sink_file(out)
            except OSError as exc:
                raise typer.BadParameter(f"cannot write {out!r}: {exc.strerror}", param_hint="--out") from None

        n = 0
        wall = time.monotonic()
        with progress as bar:
            task = None
            if bar is not None:
                task = bar.add_task("sim", total=seconds, sim=cfg.start.isoformat(), n=0)
            last_update = 0.0
            try:
                for e in stream:
                    raw = orjson.dumps(e)
                    if producer is not None:
                        producer.send(topic, key=e["subject"].encode(), value=raw)
                    else:
                        sink.write(raw + b"\n")
                    n += 1
                    if bar is not None and (n & 255) == 0:
                        now = time.monotonic()
                        if now - last_update > 0.1:
                            last_update = now
                            ev_t = datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
                            bar.update(task, completed=ev_t.timestamp() - t0, n=n,
                                       sim=ev_t.astimezone(cfg.zone).strftime("%Y-%m-%d %H:%M"))
                if producer is not None:
                    producer.flush()
            except KeyboardInterrupt:
                err.print("[yellow]interrupted[/yellow]")
            finally:
                if producer is not None:
                    producer.close()
                if sink is not None and sink is not sys.stdout.buffer:
                    sink.close()
                elif sink is not None:
                    sink.flush()
            if bar is not None:
                bar.update(task, completed=seconds, n=n,
                           sim=cfg.end.astimezone(cfg.zone).strftime("%Y-%m-%d %H:%M"))
        secs = time.monotonic() - wall
        where = out if out is not None else f"{topic} at {settings.kafka_bootstrap}"
        if not quiet:
            err.print(f"{n:,} events to {where} in {secs:.1f}s ({n / secs if secs else 0:,.0f}/s)")
