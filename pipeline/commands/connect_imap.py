"""`tablero connect imap`: count a mailbox's mail as email contacts (pipeline/connectors/imap_mailbox.py).

`register_connect(group)` adds `imap` to the `connect` group that pipeline/commands/connect.py
assembles; without that module, `register(app)` makes the group itself."""
from __future__ import annotations

import logging
import signal
import sys
import threading

import orjson
import typer

from pipeline.settings import Settings, get_settings

log = logging.getLogger("tablero.imap")


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(2)


def _password(s: Settings) -> str:
    if s.imap_password:
        return s.imap_password
    if s.imap_password_file:
        try:
            return s.imap_password_file.read_text().rstrip("\r\n")
        except OSError as exc:
            _fail(f"TABLERO_IMAP_PASSWORD_FILE {str(s.imap_password_file)!r} cannot be read ({exc.strerror})")
    _fail("set TABLERO_IMAP_PASSWORD or TABLERO_IMAP_PASSWORD_FILE (the password is never taken from the command line)")


def build_config(s: Settings):
    from pipeline.connectors.email_threads import ThreadConfig
    from pipeline.connectors.imap_mailbox import ImapConfig, checkpoint_path

    if not s.imap_host:
        _fail("TABLERO_IMAP_HOST is not set (the IMAP server, e.g. imap.example.com)")
    if not s.imap_user:
        _fail("TABLERO_IMAP_USER is not set (the mailbox login)")
    port = s.imap_port or (993 if s.imap_security == "tls" else 143)
    threads = ThreadConfig.from_lists(s.imap_queue, s.imap_agent_addresses, s.imap_agent_domains,
                                      retention_days=s.imap_retention_days)
    if not threads.agent_addresses and not threads.agent_domains:
        log.warning("no TABLERO_IMAP_AGENT_ADDRESSES or TABLERO_IMAP_AGENT_DOMAINS: only messages in the sent "
                    "folder count as agent replies")
    return ImapConfig(
        host=s.imap_host, port=port, security=s.imap_security, user=s.imap_user, password=_password(s),
        threads=threads, state_path=checkpoint_path(s.data_dir, s.imap_user, s.imap_host, port),
        inbox=s.imap_inbox, sent_folder=s.imap_sent_folder,
        close_folders=tuple(f.strip() for f in s.imap_close_folders.split(",") if f.strip()),
        poll_s=s.imap_poll_s, idle_renew_s=s.imap_idle_renew_s, ca_file=s.imap_ca_file)


def kafka_publisher(s: Settings):
    """Events -> tablero.events (key = subject); returns once the broker acknowledged all of them."""
    from pipeline.kafka.publisher import make_producer

    topic = f"{s.kafka_namespace}.tablero.events" if s.kafka_namespace else "tablero.events"
    holder: dict = {}

    def publish(events: list[dict]) -> None:
        if "producer" not in holder:
            holder["producer"] = make_producer(s.kafka_bootstrap)
        producer = holder["producer"]
        futures = [producer.send(topic, key=e["subject"].encode(), value=orjson.dumps(e)) for e in events]
        producer.flush(timeout=60)
        for f in futures:
            f.get(timeout=60)

    def close() -> None:
        if "producer" in holder:
            holder.pop("producer").close(timeout=10)

    publish.close = close
    return publish


def imap(once: bool = typer.Option(False, "--once", help="Read what is new once, publish it and exit (cron, backfill).")) -> None:
    """Read a support mailbox over IMAP and publish its mail as email contact events.

    New customer mail -> contact.created / customer_replied; mail in the sent folder or from an
    agent address -> agent_replied; mail moved to the archive folder -> closed. Settings:
    TABLERO_IMAP_* (tablero config; docs/connectors.md).

    Example: TABLERO_IMAP_HOST=imap.example.com TABLERO_IMAP_USER=support@example.com
    TABLERO_IMAP_PASSWORD_FILE=/run/secrets/imap TABLERO_IMAP_AGENT_DOMAINS=example.com tablero connect imap
    """
    from pipeline.connectors.imap_mailbox import ImapAuthError, ImapConnector, PublishError

    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    s = get_settings()
    config = build_config(s)
    publish = kafka_publisher(s)
    connector = ImapConnector(config, publish)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        if once:
            connector.flush_outbox()
            client = connector.connect()
            try:
                connector.resolve_folders(client)
                connector.sync_once(client)
                while connector.last_read:  # a backlog is read MAX_PER_CYCLE messages per folder at a time
                    connector.sync_once(client)
            finally:
                client.logout()
        else:
            connector.run(stop)
    except ImapAuthError as exc:
        _fail(str(exc))
    except PublishError as exc:  # --once only: the long-running mode retries
        print(f"error: Kafka at {s.kafka_bootstrap} did not take the events ({exc}); they are kept in "
              f"{config.state_path} and go out first at the next run", file=sys.stderr)
        raise typer.Exit(1)
    finally:
        publish.close()
    print(f"read {connector.messages_read} message(s), published {connector.events_published} event(s); "
          f"counts: {connector.threader.counts}", file=sys.stderr)


def register_connect(group: typer.Typer) -> None:
    """Called by pipeline/commands/connect.py, which assembles the `connect` group."""
    group.command("imap")(imap)


def register(app: typer.Typer) -> None:
    import importlib.util

    if importlib.util.find_spec("pipeline.commands.connect") is not None:
        return  # connect.py builds the group and calls register_connect
    group = next((g.typer_instance for g in app.registered_groups if g.name == "connect"), None)
    if group is None:
        group = typer.Typer(help="Connectors to real sources (mailboxes, PBXs, help desks).\n\n"
                            "Example: tablero connect imap", no_args_is_help=True)
        app.add_typer(group, name="connect")
    register_connect(group)
