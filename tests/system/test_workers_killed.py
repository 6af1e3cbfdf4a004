"""Issue 18, faults under load: three workers share the partitions (one `tablero up`, two
`tablero worker`) while the two plain workers are killed with kill -9 in turn, every 20 s for
a minute, and restarted at once. Afterwards the live view equals a recomputation from the full
event list, and every event counts once: the union of the workers' ClickHouse data holds every
event id, and every contact's version (events applied to it) is what the recomputation gives --
an event applied twice anywhere would raise it, one lost would lower it.

Each process lands into its own embedded ClickHouse (chDB: one process per directory), so a
batch replayed after a rebalance can land in two directories; ReplacingMergeTree makes that
harmless on one ClickHouse server, and here the union is taken per id and per contact."""
from __future__ import annotations

import threading
import time

import clickhouse_connect

from tests.system.stack import Stack, wait_for
from tests.system.test_live_recovery import expected_versions, lag_is_zero, publish, simulated_events, wait_for_live

KILLS = 3
KILL_EVERY_S = 20.0


def _landed(stack: Stack) -> tuple[set[str], dict[str, int]]:
    client = clickhouse_connect.get_client(dsn=f"chdb://{stack.data_dir.resolve()}/clickhouse")
    ids = {r[0] for r in client.query("SELECT id FROM events FINAL").result_rows}
    versions = dict(client.query("SELECT contact_id, max(version) FROM contacts FINAL GROUP BY contact_id").result_rows)
    dup = client.query("SELECT count() - uniqExact(id) FROM events FINAL").result_rows[0][0]
    assert dup == 0, f"{stack.data_dir.name}: {dup} event ids twice after FINAL"
    return ids, versions


def test_three_workers_one_killed_repeatedly_count_every_event_once(kafka_bootstrap, tmp_path):
    events = simulated_events(seed=13)
    up = Stack(kafka_bootstrap, tmp_path / "up")
    workers = [Stack(kafka_bootstrap, tmp_path / f"w{i}", namespace=up.namespace) for i in (1, 2)]
    up.start()
    for w in workers:
        w.start("worker", wait_api=False)
    try:
        # traffic keeps arriving during the whole minute of kills
        publisher = threading.Thread(target=publish, args=(up, events, len(events) / (KILLS * KILL_EVERY_S)))
        publisher.start()
        for k in range(KILLS):
            time.sleep(KILL_EVERY_S)
            victim = workers[k % 2]
            victim.kill9()
            victim.start("worker", wait_api=False)  # same data directory: same static member id
        publisher.join()
        for w in workers:
            w.check_alive()
        wait_for_live(up, events, timeout=240)
        wait_for(lambda: lag_is_zero(up), timeout=120, what="lag 0")
    finally:
        for w in workers:
            w.stop()
        up.stop()
    ids: set[str] = set()
    versions: dict[str, int] = {}
    for s in (up, *workers):
        i, v = _landed(s)
        ids |= i
        for cid, n in v.items():
            versions[cid] = max(n, versions.get(cid, 0))
    assert ids == {e["id"] for e in events}
    assert set(versions) == {e["subject"] for e in events if e["type"] == "contact.created"}
    assert sum(versions.values()) == expected_versions(events)
