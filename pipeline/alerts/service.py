"""Where alerts run: inside every API process, evaluated by exactly one of them.

Why the API: the merged live view (every partition's partial merged at `now`) exists only in the
API (supervisor_api.live_feed -> LiveHub); a worker sees its own partitions. Contact rules need
per-contact facts the view does not carry, so the evaluating replica also follows the compacted
`tablero.state` topic (pipeline.alerts.contacts) while a contact rule exists.

Exactly one evaluator (the claim). Every replica joins the Kafka consumer group
`tablero-alerts` subscribed to the one-partition `tablero.alerts` topic. Kafka gives that partition
to exactly one member: that member *owns* evaluation and notification; the others only read. A
replica that stops leaves the group and another takes over at once; one that dies is expelled after
the session timeout (ALERTS_SESSION_TIMEOUT_MS) and another takes over then. This was chosen over
"every replica evaluates, a deterministic episode id + an idempotent claim record decides who
notifies" because evaluation itself has state (for_s timers, cooldowns) and two evaluators would
fire at slightly different instants with different ids; one owner keeps one timeline, and the group
protocol is the fencing Kafka already provides.

State in Kafka. Episodes live in the compacted `tablero.alerts` topic (pipeline.alerts.records):
every replica reads it from the start into a `Book` (what GET /api/v1/alerts shows). A new owner
first reads the topic to the end offset it saw when it got the partition, rebuilds the engine from
the episodes (open ones stay open, resolved ones keep their cooldown) and only then evaluates. The
old owner, when the partition is revoked, stops evaluating, waits for the deliveries in flight and
writes their outcome, and flushes, all before the group moves on: no two owners at once.

Exactly-once notification, step by step: a transition is written to the topic with its
notifications `pending` (acks=all) *before* any delivery; each delivery's outcome is written after
it. After a restart or a hand-over the new owner sees which notifications are still pending and
delivers only those. The one window left is a crash between a receiver accepting a notification
and the `delivered` record reaching Kafka: that notification is sent again, with the same
`notification_id` (and X-Tablero-Notification-Id header) so the receiver can drop it. Failed
deliveries are retried with exponential backoff (ALERTS_RETRY_BASE_S doubling up to
ALERTS_RETRY_MAX_S, ALERTS_MAX_ATTEMPTS attempts), then kept as `undeliverable` with the reason,
visible in the API, `tablero alerts list` and the `alerts` table.

History. The owner inserts one row per lifecycle event into the ClickHouse `alerts` table
(migration 0007) after the event is in Kafka; rows are keyed (episode, event, target), so a retried
insert collapses. Inserts that fail are kept and retried at the next tick.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any, Callable

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from pipeline.alerts import delivery, records
from pipeline.alerts.engine import ACKED, FIRED, FIRING, RESOLVED, ContactFacts, Engine, Episode
from pipeline.alerts.rules import RuleSet, RulesError, parse_rules_toml

log = logging.getLogger(__name__)

ALERTS_SESSION_TIMEOUT_MS = 6000
FINISHED_KEEP_S = 7 * 86400          # finished episodes are removed from the topic after this


def load_rules_file(path: Path | None) -> RuleSet:
    if path is None:
        return RuleSet()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RulesError(f"{path}: cannot read the rules file (TABLERO_ALERTS_FILE): {exc.strerror}") from None
    return parse_rules_toml(text, str(path))


def history_row(ep: Episode, event: str, at: float, target: str = "", detail: str = "") -> dict:
    s = ep.scope
    return {"episode_id": ep.id, "event": event, "target": target, "at": at, "rule": ep.rule,
            "kind": ep.kind, "severity": ep.severity, "queue": s.get("queue") or "",
            "channel": s.get("channel") or "", "contact": s.get("contact") or "",
            "agent": s.get("agent") or "", "metric": ep.metric or "", "value": ep.value,
            "threshold": float(ep.threshold), "started_at": ep.started_at, "fired_at": ep.fired_at,
            "resolved_at": ep.resolved_at, "acked_by": ep.acked_by or "",
            "escalate_to": ep.escalate_to or "", "detail": detail}


class _Lease(ConsumerRebalanceListener):
    def __init__(self, service: "AlertService"):
        self.service = service

    async def on_partitions_revoked(self, revoked):
        if revoked:
            await self.service._release()

    async def on_partitions_assigned(self, assigned):
        self.service.joined = True
        if assigned:
            self.service._lease_consumer.pause(*assigned)
            self.service._claim()


class AlertService:
    def __init__(self, *, bootstrap: str, topic: str, group: str, state_topic: str,
                 rules_file: Path | None, view_source: Callable[[], dict | None],
                 warehouse: Any = None, smtp: str = "", sender: str = "", interval_s: float = 0.5,
                 max_attempts: int = 8, retry_base_s: float = 2.0, retry_max_s: float = 300.0,
                 clock: Callable[[], float] = time.time, deliver: Callable[..., str | None] = delivery.deliver):
        self.bootstrap = bootstrap
        self.topic = topic
        self.group = group
        self.state_topic = state_topic
        self.rules_file = rules_file
        self.view_source = view_source
        self.warehouse = warehouse
        self.smtp = smtp
        self.sender = sender
        self.interval_s = interval_s
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.clock = clock
        self.deliver = deliver
        self.book = records.Book()
        self.book_position = 0
        self.rules = RuleSet()
        self.rules_error: str | None = None
        self._rules_mtime: int | None | str = "unread"   # None: the file is missing
        self.owner = False
        self.joined = False          # this replica is a member of the group (owner or not)
        self.ticks = 0               # evaluations done while owner (tests and status)
        self.engine: Engine | None = None
        self.contacts: dict[str, ContactFacts] | None = None
        self._producer: AIOKafkaProducer | None = None
        self._lease_consumer: AIOKafkaConsumer | None = None
        self._tasks: list[asyncio.Task] = []
        self._own_task: asyncio.Task | None = None
        self._contacts_task: asyncio.Task | None = None
        self._in_flight: dict[tuple[str, int], asyncio.Task] = {}
        self._stopping_owner = False
        self._history: list[dict] = []
        self._unwritten: dict[str, list] = {}   # episode id -> lifecycle events Kafka has not taken yet
        self._wake = asyncio.Event()
        self._producer_ready = asyncio.Event()
        self.reload_rules()

    # -- rules ------------------------------------------------------------------------------
    def reload_rules(self) -> bool:
        """Load the rules file if it changed; an invalid file keeps the previous rules."""
        if self.rules_file is None:
            return False
        try:
            mtime = os.stat(self.rules_file).st_mtime_ns
        except OSError:
            mtime = None
        if mtime == self._rules_mtime:
            return False
        self._rules_mtime = mtime
        try:
            self.rules = load_rules_file(self.rules_file)
            self.rules_error = None
            log.info("alert rules loaded from %s: %d rule(s)", self.rules_file, len(self.rules.rules))
        except RulesError as exc:
            self.rules_error = str(exc)
            log.error("alert rules not (re)loaded, keeping the previous ones:\n%s", exc)
            return False
        if self.engine is not None:
            self.engine.set_rules(self.rules)
        return True

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Returns at once; Kafka is reached (and retried) in the background."""
        self._producer_ready = asyncio.Event()
        self._tasks = [asyncio.get_running_loop().create_task(self._run())]

    async def _run(self) -> None:
        backoff = 0.5
        while self._producer is None:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                        enable_idempotence=True, linger_ms=0)
            try:
                await producer.start()
                self._producer = producer
            except (KafkaError, OSError) as exc:
                await producer.stop()
                log.warning("alerts: Kafka unavailable (%r); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
        self._producer_ready.set()
        await asyncio.gather(self._read_book(), self._hold_lease())

    async def stop(self) -> None:
        lease = self._lease_consumer
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            try:
                await t
            except (asyncio.CancelledError, Exception):
                pass
        if self.owner:
            await self._release()
        if lease is not None:
            try:
                await lease.stop()
            except Exception:
                pass
        if self._producer is not None:
            await self._producer.stop()

    # -- everyone: the book -----------------------------------------------------------------
    async def _read_book(self) -> None:
        backoff = 0.5
        while True:
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                                        enable_auto_commit=False, client_id="tablero-alerts-book")
            try:
                await consumer.start()
                tp = TopicPartition(self.topic, 0)
                consumer.assign([tp])
                if self.book_position:
                    consumer.seek(tp, self.book_position)
                else:
                    await consumer.seek_to_beginning(tp)
                backoff = 0.5
                while True:
                    batch = await consumer.getmany(tp, timeout_ms=200)
                    for r in batch.get(tp, ()):
                        self.book.apply(r.key, r.value)
                    self.book_position = await consumer.position(tp)
                    if batch:
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as exc:
                log.warning("alerts: cannot read %s (%r); retrying in %.1fs", self.topic, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)
            finally:
                await consumer.stop()

    async def ack(self, episode_id: str, who: str) -> Episode | None:
        """Record an acknowledgement request (any replica); the owner folds it in."""
        ep = self.book.episodes.get(episode_id)
        if ep is None:
            return None
        if ep.acked_by is None and episode_id not in self.book.acks:
            await asyncio.wait_for(self._producer_ready.wait(), 10)
            at = self.clock()
            await self._producer.send_and_wait(self.topic, records.encode_ack(who, at),
                                               key=records.ack_key(episode_id), partition=0)
            self.book.acks.setdefault(episode_id, (who, at))
            self._wake.set()
        return ep

    # -- the claim --------------------------------------------------------------------------
    async def _hold_lease(self) -> None:
        backoff = 0.5
        while True:
            self._lease_consumer = consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False,
                session_timeout_ms=ALERTS_SESSION_TIMEOUT_MS, heartbeat_interval_ms=1000,
                client_id="tablero-alerts-lease")
            try:
                await consumer.start()
                consumer.subscribe([self.topic], listener=_Lease(self))
                backoff = 0.5
                while True:
                    await consumer.getmany(timeout_ms=500)   # the partition is paused: keeps membership
            except asyncio.CancelledError:
                raise
            except (KafkaError, OSError) as exc:
                log.warning("alerts: group %s unavailable (%r); retrying in %.1fs", self.group, exc, backoff)
                if self.owner:
                    await self._release()
                await consumer.stop()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10)

    def _claim(self) -> None:
        if self._own_task is None or self._own_task.done():
            self._stopping_owner = False
            self._own_task = asyncio.get_running_loop().create_task(self._own())

    async def _release(self) -> None:
        """Stop evaluating; let deliveries in flight finish and record them; flush."""
        self._stopping_owner = True
        self._wake.set()
        task = self._own_task
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=delivery.TIMEOUT_S * 3)
            except (asyncio.TimeoutError, Exception):
                task.cancel()
        if self._contacts_task is not None:
            self._contacts_task.cancel()
            self._contacts_task = None
        self.contacts = None
        self.engine = None
        if self.owner:
            log.info("alerts: this replica no longer evaluates alerts")
        self.owner = False
        if self._producer is not None:
            try:
                await self._producer.flush()
            except Exception:
                pass

    # -- the owner --------------------------------------------------------------------------
    async def _own(self) -> None:
        try:
            tp = TopicPartition(self.topic, 0)
            end = (await self._lease_consumer.end_offsets([tp]))[tp]
            while self.book_position < end:       # everything written before we got the partition
                if self._stopping_owner:
                    return
                await asyncio.sleep(0.02)
            self.reload_rules()
            self.engine = Engine(self.rules)
            self.engine.restore(list(self.book.episodes.values()))
            self.owner = True
            log.info("alerts: this replica evaluates alerts (%d rule(s), %d episode(s) in the book)",
                     len(self.rules.rules), len(self.book.episodes))
            while not self._stopping_owner:
                try:
                    await self.tick()
                except (KafkaError, OSError) as exc:   # Kafka away: wait and evaluate again
                    log.warning("alerts: evaluation tick failed (%r); retrying", exc)
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.interval_s)
                except asyncio.TimeoutError:
                    pass
            if self._in_flight:
                await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("alerts: evaluation stopped by an error; releasing the claim")
            raise

    def _needs_contacts(self) -> bool:
        return any(r.kind == "contact" for r in self.rules.rules)

    async def tick(self) -> None:
        """One evaluation at `clock()`: transitions, acknowledgements, due deliveries, history."""
        now = self.clock()
        self.ticks += 1
        await self._rewrite()
        self.reload_rules()
        if self._needs_contacts():
            if self._contacts_task is None:
                self._contacts_task = asyncio.get_running_loop().create_task(self._follow_contacts())
        elif self._contacts_task is not None:
            self._contacts_task.cancel()
            self._contacts_task = None
            self.contacts = None
        contacts = self.contacts.values() if self.contacts is not None else None
        for event, ep in self.engine.step(now, self.view_source(), contacts):
            if event in (FIRED, RESOLVED):
                records.add_notifications(ep, FIRING if event == FIRED else RESOLVED, now)
            await self._write(ep, event, now)
        for eid, (who, at) in list(self.book.acks.items()):
            ep = self.book.episodes.get(eid)
            if ep is not None and ep.acked_by is None:
                ep.acked_by, ep.acked_at = who, at
                await self._write(ep, ACKED, at)
        for ep in list(self.book.episodes.values()):
            if ep.id in self._unwritten:
                continue
            for i in records.due_notifications(ep, now):
                if (ep.id, i) not in self._in_flight and not self._stopping_owner:
                    task = asyncio.get_running_loop().create_task(self._deliver(ep, i))
                    self._in_flight[(ep.id, i)] = task
            if records.finished(ep) and now - (ep.resolved_at or now) > FINISHED_KEEP_S:
                await self._producer.send_and_wait(self.topic, None, key=records.episode_key(ep.id), partition=0)
                if ep.id in self.book.acks:
                    await self._producer.send_and_wait(self.topic, None, key=records.ack_key(ep.id), partition=0)
                self.book.apply(records.episode_key(ep.id), None)
        await self._flush_history()

    async def _write(self, ep: Episode, event: str, at: float, target: str = "", detail: str = "") -> bool:
        """Write the episode's new state. When Kafka does not take it, the episode is remembered
        as unwritten: it is written again at the next tick and none of its notifications is sent
        before that (a notification is only ever sent for a transition Kafka holds)."""
        ep.rev += 1
        self.book.put(ep)
        try:
            await self._producer.send_and_wait(self.topic, records.encode_episode(ep, event, at),
                                               key=records.episode_key(ep.id), partition=0)
        except KafkaError as exc:
            log.warning("alerts: episode %s (%s) not written to %s yet (%r); retrying", ep.id, event,
                        self.topic, exc)
            self._unwritten.setdefault(ep.id, []).append((event, at, target, detail))
            return False
        if event != "retry":
            self._history.append(history_row(ep, event, at, target, detail))
        return True

    async def _rewrite(self) -> None:
        for eid, pending in list(self._unwritten.items()):
            ep = self.book.episodes.get(eid)
            if ep is None:
                self._unwritten.pop(eid, None)
                continue
            event, at, target, detail = pending[-1]
            try:
                await self._producer.send_and_wait(self.topic, records.encode_episode(ep, event, at),
                                                   key=records.episode_key(ep.id), partition=0)
            except KafkaError:
                return
            del self._unwritten[eid]
            for event, at, target, detail in pending:
                if event != "retry":
                    self._history.append(history_row(ep, event, at, target, detail))

    async def _deliver(self, ep: Episode, index: int) -> None:
        n = ep.notifications[index]
        snapshot = Episode.from_dict(ep.to_dict())   # the loop keeps updating ep.value meanwhile
        try:
            error = await asyncio.to_thread(self.deliver, n["target"], snapshot, n["state"],
                                            smtp=self.smtp, sender=self.sender)
        except Exception as exc:  # a bug in a plugin must not lose the notification
            error = f"{type(exc).__name__}: {exc}"
        now = self.clock()
        outcome = records.record_attempt(ep, index, error, now, max_attempts=self.max_attempts,
                                         base_s=self.retry_base_s, cap_s=self.retry_max_s)
        if outcome == records.UNDELIVERABLE:
            log.error("alerts: notification %s:%s to %s undeliverable after %d attempts: %s",
                      ep.id, n["state"], n["target"], n["attempts"], error)
        elif outcome == "retry":
            log.warning("alerts: notification %s:%s to %s failed (attempt %d): %s",
                        ep.id, n["state"], n["target"], n["attempts"], error)
        try:
            await self._write(ep, outcome, now, n["target"], error or "")
        finally:
            self._in_flight.pop((ep.id, index), None)
            self._wake.set()

    async def _flush_history(self) -> None:
        if self.warehouse is None:
            self._history.clear()
            return
        if not self._history:
            return
        from pipeline.history import clickhouse_store

        rows, self._history = self._history, []
        try:
            await self.warehouse.call(clickhouse_store.insert_rows, "alerts", rows)
        except Exception as exc:
            log.warning("alerts: history rows not inserted yet (%r); retrying", exc)
            self._history = rows + self._history

    async def _follow_contacts(self) -> None:
        """Contact facts from the compacted state topic, all partitions; ready once caught up."""
        from pipeline.alerts.contacts import facts_from_record

        facts: dict[str, ContactFacts] = {}
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                    client_id="tablero-alerts-contacts", fetch_max_bytes=64 * 1024 * 1024,
                                    max_partition_fetch_bytes=16 * 1024 * 1024)
        await consumer.start()
        try:
            while True:
                cluster = await consumer._client.fetch_all_metadata()  # noqa: SLF001 - no public call
                parts = cluster.partitions_for_topic(self.state_topic)
                if parts:
                    break
                await asyncio.sleep(1.0)          # the workers create it; wait for it
            tps = [TopicPartition(self.state_topic, p) for p in sorted(parts)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            ends = await consumer.end_offsets(tps)
            behind = {tp for tp in tps if ends[tp] > 0}
            if not behind:
                self.contacts = facts
            while True:
                batch = await consumer.getmany(timeout_ms=200, max_records=20000)
                for records_ in batch.values():
                    for r in records_:
                        if not r.key or not r.key.startswith(b"c:"):
                            continue
                        cid = r.key[2:].decode()
                        f = None
                        if r.value is not None:
                            try:
                                f = facts_from_record(orjson.loads(r.value))
                            except Exception:
                                log.warning("alerts: unreadable state record for %s", cid)
                        if f is None:
                            facts.pop(cid, None)
                        else:
                            facts[cid] = f
                if behind:
                    for tp in list(behind):
                        if await consumer.position(tp) >= ends[tp]:
                            behind.discard(tp)
                    if not behind:
                        self.contacts = facts
                        self._wake.set()
        finally:
            await consumer.stop()

    # -- for the API and the CLI -------------------------------------------------------------
    def status(self) -> dict:
        return {"owner": self.owner, "rules": len(self.rules.rules), "rules_error": self.rules_error,
                "episodes": len(self.book.episodes)}


async def read_book(bootstrap: str, topic: str, timeout_s: float = 15.0) -> records.Book:
    """The book as of now: `topic` read to its current end (for `tablero alerts list|ack`)."""
    book = records.Book()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                client_id="tablero-alerts-cli", request_timeout_ms=int(timeout_s * 1000))
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        deadline = time.monotonic() + timeout_s
        while await consumer.position(tp) < end:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end within {timeout_s:g} s")
            for r in (await consumer.getmany(tp, timeout_ms=200)).get(tp, ()):
                book.apply(r.key, r.value)
        return book
    finally:
        await consumer.stop()


async def send_ack(bootstrap: str, topic: str, episode_id: str, who: str, at: float) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, records.encode_ack(who, at), key=records.ack_key(episode_id),
                                     partition=0)
    finally:
        await producer.stop()
