"""A seeded generator of Asterisk queue_log lines in app_queue.c's formats (tests and the bench),
and an independent count of what the reports must show (read from the lines, not the mapper)."""
from __future__ import annotations

import random
from collections import Counter

QUEUES = ("sales", "support", "billing")
MEMBERS = ("PJSIP/201", "PJSIP/202", "PJSIP/203", "Local/2004@from-internal/n", "Agent/1127")
ABANDONING = ("ABANDON", "EXITEMPTY", "EXITWITHTIMEOUT")


def generate(n_calls: int, *, start: int = 1733126400, seed: int = 7, gap_s: float = 20.0,
             malformed_every: int = 0) -> list[str]:
    """Lines in time order: member logins, calls entering queues and ending every way app_queue
    ends them, pauses, dialplan verbs (DID, OUTDIAL, INFO) and, every `malformed_every` calls,
    an unreadable line."""
    rnd = random.Random(seed)
    rows: list[tuple[int, int, str]] = []
    seq = 0

    def add(t: int, line: str) -> None:
        nonlocal seq
        rows.append((t, seq, f"{t}|{line}"))
        seq += 1

    for q in QUEUES:
        for m in MEMBERS:
            add(start, f"NONE|{q}|{m}|ADDMEMBER|")
    t = float(start) + 1
    for i in range(n_calls):
        t += rnd.expovariate(1 / gap_s)
        ts = int(t)
        callid = f"{ts}.{i}"
        q = rnd.choice(QUEUES)
        caller = f"+4416329{i % 100000:05d}"
        if rnd.random() < 0.3:
            add(ts, f"{callid}|{q}|NONE|DID|5551000")
        add(ts, f"{callid}|{q}|NONE|ENTERQUEUE||{caller}|1")
        wait = rnd.randint(0, 90)
        r = rnd.random()
        if r < 0.62:  # answered
            member = rnd.choice(MEMBERS)
            for _ in range(rnd.choice((0, 0, 1, 2))):
                add(ts + rnd.randint(0, max(wait - 1, 0)), f"{callid}|{q}|{rnd.choice(MEMBERS)}|RINGNOANSWER|15000")
            ring = rnd.randint(1, 5) if wait >= 5 else 0
            add(ts + wait, f"{callid}|{q}|{member}|CONNECT|{wait}|{callid}1|{ring}")
            talk = rnd.randint(20, 600)
            end = ts + wait + talk
            x = rnd.random()
            if x < 0.08:
                add(end, f"{callid}|{q}|{member}|BLINDTRANSFER|300|from-internal|{wait}|{talk}|1")
            elif x < 0.12:
                add(end, f"{callid}|{q}|{member}|ATTENDEDTRANSFER|BRIDGE|{callid}9|{wait}|{talk}|1")
            else:
                verb = "COMPLETECALLER" if x < 0.6 else "COMPLETEAGENT"
                add(end, f"{callid}|{q}|{member}|{verb}|{wait}|{talk}|1")
        elif r < 0.9:
            verb = rnd.choice(ABANDONING)
            add(ts + wait, f"{callid}|{q}|NONE|{verb}|1|1|{wait}")
        else:
            add(ts + wait, f"{callid}|{q}|NONE|EXITWITHKEY|5|1|1|{wait}")
        if rnd.random() < 0.05:
            m = rnd.choice(MEMBERS)
            add(ts, f"NONE|{q}|{m}|PAUSE|lunch")
            add(ts + 600, f"NONE|{q}|{m}|UNPAUSE|")
        if rnd.random() < 0.1:
            add(ts, f"{callid}0|{q}|NONE|OUTDIAL|2|+441632960999")
        if rnd.random() < 0.02:
            add(ts, f"{callid}|{q}|NONE|INFO|note")
        if malformed_every and i % malformed_every == malformed_every - 1:
            rows.append((ts, seq, f"corrupt line {i}: not a queue_log record"))
            seq += 1
    rows.sort()
    return [line for _, _, line in rows]


def expected(lines: list[str]) -> dict:
    """What the reports must say, counted straight from the lines: per queue offered (ENTERQUEUE),
    answered (CONNECT), abandoned (ABANDON, EXITEMPTY, EXITWITHTIMEOUT); plus verbs Tablero ignores
    and unreadable lines."""
    per: dict[str, Counter] = {}
    ignored: Counter = Counter()
    malformed = []
    for line in lines:
        f = line.split("|")
        if len(f) < 5 or not f[0].isdigit() or not f[4]:
            malformed.append(line)
            continue
        verb, q = f[4], f[2]
        c = per.setdefault(q, Counter())
        if verb == "ENTERQUEUE":
            c["offered"] += 1
        elif verb == "CONNECT":
            c["answered"] += 1
        elif verb in ABANDONING:
            c["abandoned"] += 1
        elif verb in ("DID", "OUTDIAL", "INFO"):
            ignored[verb] += 1
    return {"queues": {q: dict(c) for q, c in per.items() if c}, "ignored": dict(ignored), "malformed": malformed}
