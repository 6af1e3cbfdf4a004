"""Asterisk `queue_log` lines -> v1 contract events. Pure: no I/O, no clock (times come from the lines).

The file format is the one `ast_queue_log()` writes (main/logger.c):
``epoch|callid|queuename|agent|EVENT|data1|data2|...`` -- epoch = time(NULL), seconds, UTC.
The data fields of each verb follow apps/app_queue.c (the `ast_queue_log(...)` calls):

====================  =========================================  ==========================================
verb                  data (app_queue.c)                         events
====================  =========================================  ==========================================
ENTERQUEUE            url|callerid|position[|callername]         contact.created (voice; queue; customer =
                                                                 caller id number, None when empty)
CONNECT               holdtime|bridged uniqueid|ringtime         contact.assigned at t - ringtime (when
                                                                 given), contact.answered (agent = member)
COMPLETECALLER/AGENT  holdtime|calltime|origposition             contact.closed (agent, resolution)
ABANDON               position|origposition|waittime             contact.abandoned
EXITEMPTY             position|origposition|waittime             contact.abandoned (Asterisk counts it
EXITWITHTIMEOUT       position|origposition|waittime             abandoned: record_abandoned())
EXITWITHKEY           key|position|origposition|waittime         contact.closed, no agent: Asterisk does NOT
WITHDRAW              position|origposition|waittime|info        count these abandoned (no record_abandoned)
BLINDTRANSFER         exten|context|holdtime|calltime|origpos    contact.transferred (to_agent =
ATTENDEDTRANSFER      BRIDGE|id|.. / APP|app|.. / LINK|c1|c2|..  exten@context / the target) + contact.closed
RINGNOANSWER          ringtime (ms)                              no event: counted per agent (missed rings)
AGENTLOGIN/ADDMEMBER  channel / "PAUSED" or ""                   agent.state_changed available (away if PAUSED)
AGENTLOGOFF/REMOVEMEMBER                                         agent.state_changed offline
PAUSE/PAUSEALL        reason                                     agent.state_changed away, reason kept
UNPAUSE/UNPAUSEALL    reason                                     agent.state_changed available
====================  =========================================  ==========================================

Every other verb (OUTDIAL, DID, INFO, RINGCANCELED, CONFIGRELOAD, ...) is counted in `ignored`
and produces nothing. A line that cannot be read raises `LineError` (the adapter dead-letters it
with its file and line number and goes on).

Contact ids: ``<source>-<callid>-<queue>``; a caller who enters the same queue again after that
entry ended gets ``-2``, ``-3``... (one Asterisk queue entry = one contact; entering another queue
is another contact, as Asterisk counts it). Event ids are ``<contact id>:<kind>``: deterministic,
so reading a file twice lands nothing new. Agent events: ``<source>-agent:<member>:<verb>:<queue>:<epoch>``.

The mapper keeps the open calls of the file (callid, queue -> contact) so that the contact of a
CONNECT is the one its ENTERQUEUE created; `snapshot()`/`restore()` carry that state across a
restart (the adapter stores it with the checkpoint). A line about a call whose ENTERQUEUE was
never seen (reading started mid-call) synthesizes the missing created (and answered) from the
hold and call times the line carries, so history is complete from the first line read.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
import time

SOURCE = "asterisk"
MIN_EPOCH = 0
MAX_EPOCH = 4133980800  # 2101-01-01: the contract's upper bound
FORGET_AFTER_S = 86400  # ended entries (for re-entry numbering) are forgotten a day after they end

_ABANDONING = frozenset({"ABANDON", "EXITEMPTY", "EXITWITHTIMEOUT"})
_LEAVING = frozenset({"EXITWITHKEY", "WITHDRAW"})
_COMPLETE = frozenset({"COMPLETECALLER", "COMPLETEAGENT"})
_TRANSFER = frozenset({"BLINDTRANSFER", "ATTENDEDTRANSFER"})
_AGENT_STATE = {
    "AGENTLOGIN": "available", "ADDMEMBER": "available", "UNPAUSE": "available", "UNPAUSEALL": "available",
    "AGENTLOGOFF": "offline", "REMOVEMEMBER": "offline",
    "PAUSE": "away", "PAUSEALL": "away",
}
MAPPED_VERBS = frozenset({"ENTERQUEUE", "CONNECT", "RINGNOANSWER"}) | _ABANDONING | _LEAVING | _COMPLETE \
    | _TRANSFER | frozenset(_AGENT_STATE)


class LineError(ValueError):
    """A queue_log line that cannot be mapped; the message says what is wrong with it."""


@dataclass(slots=True, frozen=True)
class QueueLogLine:
    time: int
    callid: str
    queue: str
    agent: str
    verb: str
    data: tuple[str, ...]


def parse_line(text: str) -> QueueLogLine:
    """One line (without its newline) -> its fields, or LineError."""
    parts = text.split("|")
    if len(parts) < 5:
        raise LineError(f"expected at least 5 '|'-separated fields (epoch|callid|queue|agent|EVENT), got {len(parts)}")
    epoch, callid, queue, agent, verb = parts[:5]
    if not epoch.isdigit():
        raise LineError(f"epoch {epoch[:40]!r} is not a whole number of seconds")
    t = int(epoch)
    if not MIN_EPOCH <= t < MAX_EPOCH:
        raise LineError(f"epoch {t} is outside 1970..2100")
    if not verb:
        raise LineError("the EVENT field is empty")
    return QueueLogLine(t, callid, queue, agent, verb, tuple(parts[5:]))


def rfc3339(epoch: int) -> str:
    """Whole seconds (queue_log has no finer time) as RFC 3339 UTC."""
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % time.gmtime(epoch)[:6]


@dataclass(slots=True)
class _Entry:
    contact_id: str
    entered: int
    answered: int | None = None
    agent: str | None = None


class QueueLogMapper:
    """Stateful, pure mapper of one queue_log (one Asterisk system)."""

    def __init__(self, *, source: str = SOURCE, agent_names: dict[str, str] | None = None):
        self.source = source
        self.agent_names = dict(agent_names or {})
        self._open: dict[tuple[str, str], _Entry] = {}
        self._entries: dict[tuple[str, str], list] = {}   # (callid, queue) -> [entries so far, last end time]
        self.ignored: Counter[str] = Counter()
        self.missed_rings: Counter[str] = Counter()
        self.hold_mismatches = 0
        self.synthesized = 0
        self._last_prune = 0

    # -- state across restarts ----------------------------------------------------------------
    def snapshot(self) -> dict:
        return {
            "open": [[c, q, e.contact_id, e.entered, e.answered, e.agent] for (c, q), e in self._open.items()],
            "entries": [[c, q, n, end] for (c, q), (n, end) in self._entries.items()],
            "ignored": dict(self.ignored), "missed_rings": dict(self.missed_rings),
            "hold_mismatches": self.hold_mismatches, "synthesized": self.synthesized,
        }

    def restore(self, snap: dict) -> None:
        self._open = {(c, q): _Entry(cid, ent, ans, ag) for c, q, cid, ent, ans, ag in snap.get("open", [])}
        self._entries = {(c, q): [n, end] for c, q, n, end in snap.get("entries", [])}
        self.ignored = Counter(snap.get("ignored", {}))
        self.missed_rings = Counter(snap.get("missed_rings", {}))
        self.hold_mismatches = int(snap.get("hold_mismatches", 0))
        self.synthesized = int(snap.get("synthesized", 0))

    @property
    def open_calls(self) -> int:
        return len(self._open)

    # -- mapping --------------------------------------------------------------------------------
    def map_line(self, text: str) -> list[dict]:
        """Events for one line (possibly none). Raises LineError for an unreadable line."""
        line = parse_line(text)
        verb = line.verb
        if verb == "ENTERQUEUE":
            return self._enter(line)
        if verb == "CONNECT":
            return self._connect(line)
        if verb in _COMPLETE:
            return self._complete(line)
        if verb in _ABANDONING or verb in _LEAVING:
            return self._leave(line)
        if verb in _TRANSFER:
            return self._transfer(line)
        if verb in _AGENT_STATE:
            return self._agent(line)
        if verb == "RINGNOANSWER":
            _int(line, 0, "ringtime")
            self.missed_rings[self._agent_id(line.agent)] += 1
            return []
        self.ignored[verb] += 1
        return []

    def _agent_id(self, member: str) -> str:
        return self.agent_names.get(member, member)

    def _need(self, line: QueueLogLine, what: str) -> None:
        if not line.queue or line.queue == "NONE":
            raise LineError(f"{line.verb} without a queue name")
        if not line.callid or line.callid == "NONE":
            raise LineError(f"{line.verb} without a call id")
        if what == "agent" and (not line.agent or line.agent == "NONE"):
            raise LineError(f"{line.verb} without an agent (member name)")

    def _event(self, contact_id: str, kind: str, t: float, data: dict) -> dict:
        return {"specversion": "1.0", "id": f"{contact_id}:{kind}", "source": self.source,
                "type": f"contact.{kind}", "time": rfc3339(t), "subject": contact_id, "data": data}

    def _new_entry(self, line: QueueLogLine, entered: int) -> _Entry:
        key = (line.callid, line.queue)
        self._prune(line.time)
        n = self._entries.get(key, [0, 0])[0] + 1
        self._entries[key] = [n, entered]
        base = f"{self.source}-{line.callid}-{line.queue}"
        entry = _Entry(base if n == 1 else f"{base}-{n}", entered)
        self._open[key] = entry
        return entry

    def _end(self, line: QueueLogLine) -> None:
        key = (line.callid, line.queue)
        self._open.pop(key, None)
        if key in self._entries:
            self._entries[key][1] = line.time

    def _prune(self, now: int) -> None:
        if now - self._last_prune < 3600:
            return
        self._last_prune = now
        horizon = now - FORGET_AFTER_S
        self._entries = {k: v for k, v in self._entries.items() if k in self._open or v[1] >= horizon}

    def _created(self, entry: _Entry, line: QueueLogLine, customer: str | None, synthesized: bool) -> dict:
        data = {"channel": "voice", "queue": line.queue, "customer": customer, "priority": 0, "tags": []}
        if synthesized:
            data["synthesized_from"] = line.verb  # informational; ignored by validation
        return self._event(entry.contact_id, "created", entry.entered, data)

    def _entry_for(self, line: QueueLogLine, waited: int, out: list[dict]) -> _Entry:
        """The open entry of the line's call, or a synthesized one entered `waited` s before."""
        entry = self._open.get((line.callid, line.queue))
        if entry is None:
            entry = self._new_entry(line, max(line.time - max(waited, 0), 0))
            self.synthesized += 1
            out.append(self._created(entry, line, None, True))
        return entry

    def _enter(self, line: QueueLogLine) -> list[dict]:
        self._need(line, "")
        if len(line.data) < 2:
            raise LineError("ENTERQUEUE needs url|callerid|position")
        caller = line.data[1].strip() or None
        entry = self._new_entry(line, line.time)
        return [self._created(entry, line, caller, False)]

    def _connect(self, line: QueueLogLine) -> list[dict]:
        self._need(line, "agent")
        hold = _int(line, 0, "holdtime")
        ring = _int(line, 2, "ringtime") if len(line.data) > 2 and line.data[2] != "" else None
        out: list[dict] = []
        known = (line.callid, line.queue) in self._open
        entry = self._entry_for(line, hold, out)
        if known and abs((line.time - entry.entered) - hold) > 1:
            self.hold_mismatches += 1  # the log's holdtime disagrees with ENTERQUEUE..CONNECT
        agent = self._agent_id(line.agent)
        if ring is not None and ring > 0:
            out.append(self._event(entry.contact_id, "assigned", max(line.time - ring, entry.entered),
                                   {"agent": agent}))
        out.append(self._event(entry.contact_id, "answered", line.time, {"agent": agent, "holdtime": hold}))
        entry.answered, entry.agent = line.time, agent
        return out

    def _answered_entry(self, line: QueueLogLine, hold: int, talk: int, out: list[dict]) -> _Entry:
        entry = self._open.get((line.callid, line.queue))
        if entry is None:  # mid-call start: created and answered from the line's own times
            answered = max(line.time - talk, 0)
            entry = self._entry_for(line, talk + hold, out)
            agent = self._agent_id(line.agent)
            out.append(self._event(entry.contact_id, "answered", answered, {"agent": agent, "holdtime": hold}))
            entry.answered, entry.agent = answered, agent
        return entry

    def _complete(self, line: QueueLogLine) -> list[dict]:
        self._need(line, "agent")
        hold, talk = _int(line, 0, "holdtime"), _int(line, 1, "calltime")
        out: list[dict] = []
        entry = self._answered_entry(line, hold, talk, out)
        who = "caller" if line.verb == "COMPLETECALLER" else "agent"
        out.append(self._event(entry.contact_id, "closed", line.time,
                               {"agent": self._agent_id(line.agent), "resolution": f"{who} hung up"}))
        self._end(line)
        return out

    def _leave(self, line: QueueLogLine) -> list[dict]:
        self._need(line, "")
        verb = line.verb
        if verb == "EXITWITHKEY":
            key = line.data[0] if line.data else ""
            waited = _int(line, 3, "waittime")
        else:
            key = None
            waited = _int(line, 2, "waittime")
        out: list[dict] = []
        entry = self._entry_for(line, waited, out)
        if verb in _ABANDONING:
            out.append(self._event(entry.contact_id, "abandoned", line.time, {"reason": verb}))
        else:
            resolution = f"left the queue with key {key}" if verb == "EXITWITHKEY" else "withdrawn"
            out.append(self._event(entry.contact_id, "closed", line.time, {"agent": None, "resolution": resolution}))
        self._end(line)
        return out

    def _transfer(self, line: QueueLogLine) -> list[dict]:
        self._need(line, "agent")
        d = line.data
        if line.verb == "BLINDTRANSFER":
            if len(d) < 4:
                raise LineError("BLINDTRANSFER needs exten|context|holdtime|calltime")
            target, hold, talk = f"{d[0]}@{d[1]}", _int(line, 2, "holdtime"), _int(line, 3, "calltime")
        else:
            kind = d[0] if d else ""
            if kind == "LINK" and len(d) >= 5:
                target, hold, talk = d[2], _int(line, 3, "holdtime"), _int(line, 4, "calltime")
            elif kind in ("BRIDGE", "APP") and len(d) >= 4:
                target, hold, talk = f"{kind.lower()}:{d[1]}", _int(line, 2, "holdtime"), _int(line, 3, "calltime")
            else:
                raise LineError("ATTENDEDTRANSFER needs BRIDGE|id|holdtime|calltime, APP|app|holdtime|calltime "
                                "or LINK|channel|channel|holdtime|calltime")
        if not target.strip("@"):
            raise LineError(f"{line.verb} without a destination")
        out: list[dict] = []
        entry = self._answered_entry(line, hold, talk, out)
        agent = self._agent_id(line.agent)
        out.append(self._event(entry.contact_id, "transferred", line.time, {"to_agent": target[:128]}))
        out.append(self._event(entry.contact_id, "closed", line.time,
                               {"agent": agent, "resolution": f"{line.verb.lower()} to {target}"[:1024]}))
        self._end(line)
        return out

    def _agent(self, line: QueueLogLine) -> list[dict]:
        if not line.agent or line.agent == "NONE":
            raise LineError(f"{line.verb} without an agent (member name)")
        verb = line.verb
        state = _AGENT_STATE[verb]
        reason = None
        first = line.data[0] if line.data else ""
        if verb == "ADDMEMBER" and first == "PAUSED":
            state, reason = "away", "paused"
        elif verb in ("PAUSE", "PAUSEALL", "UNPAUSE", "UNPAUSEALL") and first:
            reason = first[:1024]
        agent = self._agent_id(line.agent)
        data = {"state": state, "reason": reason}
        if line.queue and line.queue != "NONE":
            data["queue"] = line.queue  # informational: Asterisk member states are per queue
        return [{"specversion": "1.0", "id": f"{self.source}-agent:{line.agent}:{verb}:{line.queue}:{line.time}",
                 "source": self.source, "type": "agent.state_changed", "time": rfc3339(line.time),
                 "subject": agent, "data": data}]


def _int(line: QueueLogLine, i: int, name: str) -> int:
    try:
        v = line.data[i]
    except IndexError:
        raise LineError(f"{line.verb}: missing data field {i + 1} ({name})") from None
    if not v.lstrip("-").isdigit():
        raise LineError(f"{line.verb}: {name} {v[:40]!r} is not a number")
    return int(v)
