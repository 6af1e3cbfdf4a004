from __future__ import annotations

import datetime as dt

from tests.pipeline.connectors import anonymous_bank_expected as bank


def test_totals_match_the_mapping_rules():
    e = bank.expected()
    assert e["total"]["offered"] == 31_094
    assert e["total"]["answered"] == 27_162
    assert e["total"]["abandoned"] == 3_932
    assert sum(v["offered"] for v in e["queues"].values()) == 31_094
    assert all(k[1].startswith("1999-02") or k[1] == "1999-03-01" for k in e["queues"])
    assert sum(a["handled"] for a in e["agents"].values()) <= 27_162
    assert "" not in e["agents"] and "NO_SERVER" not in e["agents"]


def test_row_mapping_examples():
    loaded = bank.load_calls()
    calls = {c.contact_id: c for c in loaded}
    assert len(calls) == len(loaded) == 31_094   # ids are unique
    utc = dt.timezone.utc
    # AGENT, never queued: created = vru_exit 7:02:56, ser_start 7:02:55 is earlier -> answered = created
    c = calls["AA0101-34536"]
    assert (c.queue, c.agent, c.created) == ("PS", "DORIT", dt.datetime(1999, 2, 1, 7, 2, 56, tzinfo=utc))
    assert c.answered == c.created and c.wait_s == 0 and c.talk_s == 166
    assert c.closed == c.created + dt.timedelta(seconds=166)
    # AGENT with NO_SERVER: a contact without an agent
    assert calls["AA0101-34537"].agent == ""
    # HANG after 5 s in queue: abandoned at q_start + q_time
    h = calls["AA0101-34539"]
    assert h.answered is None and h.abandoned == dt.datetime(1999, 2, 1, 8, 9, 27, tzinfo=utc) and h.wait_s == 5


def test_time_before_vru_entry_is_next_day_and_phantoms_skipped(tmp_path):
    header = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
              "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver\n")
    rows = [
        "AA01\t1\t0\t0\tPS\t990228\t23:59:50\t23:59:58\t8\t23:59:58\t0:00:30\t32\tAGENT\t0:00:30\t0:01:00\t30\tDANA\n",
        "AA01\t2\t0\t0\tPS\t990228\t10:00:00\t10:00:05\t5\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER\n",
        "AA01\t3\t0\t0\tPS\t990228\t10:00:00\t10:00:05\t5\t10:00:05\t10:00:07\t2\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER\n",
    ]
    f = tmp_path / "mini.tsv"
    f.write_text(header + "".join(rows))
    (c,) = bank.load_calls(f)
    utc = dt.timezone.utc
    assert c.created == dt.datetime(1999, 2, 28, 23, 59, 58, tzinfo=utc)
    assert c.answered == dt.datetime(1999, 3, 1, 0, 0, 30, tzinfo=utc) and c.wait_s == 32
    e = bank.expected(f)
    assert e["queues"] == {("PS", "1999-02-28"): {"offered": 1, "answered": 1, "abandoned": 0,
                                                  "answered_within_sl": 0, "asa_s": 32.0, "aht_s": 30.0}}
    assert e["agents"] == {"DANA": {"handled": 1, "talk_s": 30.0}}
