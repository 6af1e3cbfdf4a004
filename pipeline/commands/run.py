"""`tablero up | worker | api | migrate | status`: the processes and their health."""
from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.table import Table

from pipeline.settings import SettingsError, get_settings

err = Console(stderr=True)


def _settings():
    try:
        return get_settings()
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2)


def _prepare(start_kafka: bool, migrate: bool = True) -> None:
    """Local broker (if none configured), topics and migrations, before Faust starts."""
    from pipeline.kafka.admin import TopicMismatch, ensure_topics, reachable
    from pipeline.kafka.local_broker import KafkaSetupError, LocalKafka

    s = _settings()
    if s.uses_local_kafka and start_kafka:
        try:
            LocalKafka(s.data_dir, s.kafka_port).start(progress=err.print)
        except KafkaSetupError as exc:
            err.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(1)
    ok, why = reachable(s.kafka_bootstrap)
    if not ok:
        err.print(f"[red]error:[/red] Kafka at {s.kafka_bootstrap} unreachable ({why}); "
                  "run `tablero kafka start` or set TABLERO_KAFKA")
        raise typer.Exit(1)
    try:
        ensure_topics(s.kafka_bootstrap, s.topic_partitions)
    except TopicMismatch as exc:
        for line in str(exc).splitlines():
            err.print(f"[red]error:[/red] {line}", soft_wrap=True)
        raise typer.Exit(2)
    if migrate:
        from pipeline.history.warehouse import get_warehouse
        applied = get_warehouse(s.clickhouse_dsn).migrate_sync()
        if applied:
            err.print(f"ClickHouse migrations applied: {', '.join(map(str, applied))}")


def _run_worker(with_api: bool) -> None:
    import faust

    from pipeline.app import app, load_modules
    from pipeline.kafka.admin import CONSUMER_GROUP
    from pipeline.kafka.worker_lock import WorkerIdInUse, hold_worker_id

    s = _settings()
    try:
        hold_worker_id(CONSUMER_GROUP, s.worker_instance_id)
    except WorkerIdInUse as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2)
    from pipeline.kafka import log_throttle

    log_throttle.quiet_start()  # no ERROR lines while the broker elects the group coordinators
    load_modules()
    if with_api:
        import asyncio

        import uvicorn
        from mode import Service

        from supervisor_api.main import create_app

        @app.service
        class ApiServer(Service):
            """uvicorn inside the worker's loop. Stopped by Faust like its other services, before
            the loop's remaining tasks are cancelled: uvicorn runs the app's shutdown instead of
            dying mid-lifespan (which printed a CancelledError traceback on Ctrl-C)."""

            server: uvicorn.Server | None = None
            task: asyncio.Task | None = None

            async def on_start(self) -> None:
                config = uvicorn.Config(create_app(s, migrate=False), host=s.api_host, port=s.api_port,
                                        log_level="warning", lifespan="on")
                self.server = uvicorn.Server(config)
                self.server.install_signal_handlers = lambda: None  # Faust owns the signals
                self.task = asyncio.ensure_future(self.server.serve())

            async def on_stop(self) -> None:
                if self.server is not None and self.task is not None:
                    self.server.should_exit = True
                    try:
                        await asyncio.wait_for(asyncio.shield(self.task), 15)
                    except (asyncio.TimeoutError, asyncio.CancelledError):
                        self.task.cancel()

        err.print(f"API and wallboard on http://{s.api_host}:{s.api_port}/  (reports: /reports, docs: /docs)")
    sys.argv = [sys.argv[0], "worker", "-l", "warn"]
    faust.Worker(app, loglevel="warn", quiet=True).execute_from_commandline()


HOST = typer.Option(None, "--host", help="Address the API listens on (default TABLERO_API_HOST, 127.0.0.1; "
                    "0.0.0.0 for every interface).")
PORT = typer.Option(None, "--port", min=1, max=65535, help="Port of the API (default TABLERO_API_PORT, 8000).")


def _listen_on(host: str | None, port: int | None) -> None:
    """--host / --port win over TABLERO_API_HOST / TABLERO_API_PORT (one settings object reads them)."""
    import os

    if host:
        os.environ["TABLERO_API_HOST"] = host
    if port:
        os.environ["TABLERO_API_PORT"] = str(port)
    get_settings.cache_clear()


def up(no_kafka: bool = typer.Option(False, "--no-kafka", help="Do not start the local broker."),
       host: str = HOST, port: int = PORT) -> None:
    """Worker + API + embedded ClickHouse in one process (required with chDB).

    Example: tablero up --host 0.0.0.0 --port 8080   then open http://<host>:8080/?token=...
    """
    _listen_on(host, port)
    _prepare(start_kafka=not no_kafka)
    _run_worker(with_api=True)


def worker() -> None:
    """The stream worker alone; start several to share the partitions (needs a ClickHouse server
    when more than one process: chDB allows one process per directory). Workers on one host need
    their own TABLERO_DATA_DIR or TABLERO_WORKER_ID: it is their static member id in the group.

    With TABLERO_METRICS_PORT set, the worker serves Prometheus metrics on that port (/metrics).

    Example: TABLERO_CLICKHOUSE=http://default:@localhost:8123/default TABLERO_METRICS_PORT=9101 tablero worker
    """
    _prepare(start_kafka=False)
    s = _settings()
    if s.metrics_port:
        from pipeline import observability

        observability.serve(s.metrics_port)
        err.print(f"worker metrics on http://0.0.0.0:{s.metrics_port}/metrics")
    _run_worker(with_api=False)


def api(host: str = HOST, port: int = PORT) -> None:
    """The supervisor API alone (live state from tablero.live, reports from ClickHouse).

    Example: TABLERO_CLICKHOUSE=http://default:@localhost:8123/default tablero api --host 0.0.0.0 --port 8080
    """
    import uvicorn

    from supervisor_api.main import create_app

    _listen_on(host, port)
    s = _settings()
    uvicorn.run(create_app(s), host=s.api_host, port=s.api_port, log_level="warning")


def migrate() -> None:
    """Apply ClickHouse migrations (idempotent; also done at start).

    Example: tablero migrate
    """
    from pipeline.history.warehouse import get_warehouse

    s = _settings()
    applied = get_warehouse(s.clickhouse_dsn).migrate_sync()
    err.print(f"applied: {', '.join(map(str, applied))}" if applied else "up to date")


def status(api_url: str = typer.Option(None, "--api", help="Ask a running API (e.g. http://127.0.0.1:8000) "
                                        "instead of opening ClickHouse here (needed with chDB while `up` runs).")) -> None:
    """Kafka reachable, consumer lag per partition, ClickHouse reachable, rows per table, version.

    Example: tablero status --api http://127.0.0.1:8000
    """
    import asyncio

    import httpx

    s = _settings()
    if api_url:
        data = httpx.get(api_url.rstrip("/") + "/api/v1/status", timeout=10).json()
    else:
        from pipeline.history.warehouse import get_warehouse
        from supervisor_api.routes.status import collect_status

        data = asyncio.run(collect_status(s, get_warehouse(s.clickhouse_dsn)))
    console = Console()
    k, c = data["kafka"], data["clickhouse"]
    console.print(f"tablero {data['version']}")
    console.print(f"Kafka {k['bootstrap']}: " + ("[green]up[/green]" if k["up"] else f"[red]down[/red] {k['error']}")
                  + (f", total lag {k['total_lag']}" if k["total_lag"] is not None else ", lag unknown"))
    if k["lag"]:
        t = Table("partition", "end", "committed", "lag")
        for r in k["lag"]:
            t.add_row(str(r["partition"]), str(r["end_offset"]), str(r["committed"]), str(r["lag"]))
        console.print(t)
    console.print(f"ClickHouse {c['dsn']}: " + ("[green]up[/green]" if c["up"] else f"[red]down[/red] {c['error']}"))
    for table, n in (c.get("rows") or {}).items():
        console.print(f"  {table}: {n:,} rows")
    raise typer.Exit(0 if k["up"] and c["up"] else 1)


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("worker")(worker)
    app.command("api")(api)
    app.command("migrate")(migrate)
    app.command("status")(status)
