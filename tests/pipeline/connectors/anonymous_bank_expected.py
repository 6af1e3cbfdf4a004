"""Independent expectations for tests/data/anonymous_bank_february_1999.tsv.

Deliberately does NOT import pipeline.connectors.anonymous_bank: it re-derives, from the raw file, what the
pipeline must report after importing it. Mapping rules (shared with the importer's spec):

- a contact is a row with outcome AGENT, or outcome HANG with q_time > 0; PHANTOM rows and HANG
  rows that never queued are not contacts;
- created = q_start if q_time > 0 else vru_exit;
- AGENT: answered at max(ser_start, created), closed at answered + ser_time seconds;
- HANG: abandoned at created + q_time;
- times are naive wall-clock = UTC; a time of day earlier than vru_entry belongs to the next day.

Contact id: "<vru+line>-<call_id>" (call_id alone is not unique in the file).
Per queue (service type) and UTC day of creation: offered, answered, abandoned, answered within
20 s (wait <= 20, inclusive), ASA (mean answered - created over answered), AHT (mean ser_time over
answered). Per agent (server; NO_SERVER = no agent, left out): handled, talk seconds.
"""
from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from tests.datasets import ANONYMOUS_BANK

DATA = ANONYMOUS_BANK
SL_THRESHOLD_S = 20.0
NO_AGENT = "NO_SERVER"
UTC = dt.timezone.utc


@dataclass(frozen=True)
class Call:
    contact_id: str     # "<vru+line>-<call_id>": call_id alone repeats across IVR lines
    queue: str
    customer: str
    priority: int
    created: dt.datetime
    answered: dt.datetime | None
    closed: dt.datetime | None
    abandoned: dt.datetime | None
    agent: str          # '' when NO_SERVER
    talk_s: float       # ser_time for answered calls, else 0

    @property
    def wait_s(self) -> float:
        end = self.answered or self.abandoned
        return (end - self.created).total_seconds()


def _seconds(hms: str) -> int:
    h, m, s = hms.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s)


def load_calls(path: Path = DATA) -> list[Call]:
    calls: list[Call] = []
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            outcome = row["outcome"].strip()
            q_time = int(row["q_time"])
            if outcome == "AGENT":
                pass
            elif outcome == "HANG" and q_time > 0:
                pass
            else:
                continue
            d = row["date"].strip()
            day = dt.datetime(1900 + int(d[:2]) if int(d[:2]) > 50 else 2000 + int(d[:2]),
                              int(d[2:4]), int(d[4:6]), tzinfo=UTC)
            entry = _seconds(row["vru_entry"])

            def at(hms: str) -> dt.datetime:
                secs = _seconds(hms)
                if secs < entry:        # past midnight: the next day
                    secs += 86400
                return day + dt.timedelta(seconds=secs)

            created = at(row["q_start"]) if q_time > 0 else at(row["vru_exit"])
            server = row["server"].strip()
            if outcome == "AGENT":
                answered = max(at(row["ser_start"]), created)
                talk = float(row["ser_time"])
                calls.append(Call(f"{row['vru+line']}-{row['call_id']}", row["type"].strip(), row["customer_id"].strip(),
                                  int(row["priority"]), created, answered,
                                  answered + dt.timedelta(seconds=talk), None,
                                  "" if server == NO_AGENT else server, talk))
            else:
                calls.append(Call(f"{row['vru+line']}-{row['call_id']}", row["type"].strip(), row["customer_id"].strip(),
                                  int(row["priority"]), created, None, None,
                                  created + dt.timedelta(seconds=q_time), "", 0.0))
    return calls


def expected(path: Path = DATA) -> dict:
    """{"total": {...}, "queues": {(queue, 'YYYY-MM-DD'): {...}}, "agents": {agent: {...}}}"""
    calls = load_calls(path)
    q: dict[tuple[str, str], dict] = defaultdict(lambda: {
        "offered": 0, "answered": 0, "abandoned": 0, "answered_within_sl": 0, "_wait": 0.0, "_talk": 0.0})
    agents: dict[str, dict] = defaultdict(lambda: {"handled": 0, "talk_s": 0.0})
    for c in calls:
        cell = q[(c.queue, c.created.date().isoformat())]
        cell["offered"] += 1
        if c.answered is not None:
            cell["answered"] += 1
            cell["_wait"] += c.wait_s
            cell["_talk"] += c.talk_s
            if c.wait_s <= SL_THRESHOLD_S:
                cell["answered_within_sl"] += 1
            if c.agent:
                agents[c.agent]["handled"] += 1
                agents[c.agent]["talk_s"] += c.talk_s
        else:
            cell["abandoned"] += 1
    queues = {}
    for key, cell in sorted(q.items()):
        n = cell["answered"]
        queues[key] = {"offered": cell["offered"], "answered": n, "abandoned": cell["abandoned"],
                       "answered_within_sl": cell["answered_within_sl"],
                       "asa_s": cell["_wait"] / n if n else None,
                       "aht_s": cell["_talk"] / n if n else None}
    total = {k: sum(v[k] for v in queues.values())
             for k in ("offered", "answered", "abandoned", "answered_within_sl")}
    return {"total": total, "queues": queues, "agents": dict(sorted(agents.items()))}


if __name__ == "__main__":  # pragma: no cover - manual inspection
    e = expected()
    print(e["total"], len(e["queues"]), "queue-days,", len(e["agents"]), "agents")
