"""The bench's interleaved rounds of parts 1-3 (bench/run.py): which round is reported and how the
ratios are formed. The runs themselves need a broker and are `make bench`, not tests."""
from __future__ import annotations

from bench.run import _ratio, combine_rounds


def _runs(*rates):
    return [{"num": "x", "events_per_s": r, "notes": "n"} if r else {"status": "error", "error": "e"} for r in rates]


def test_each_part_reports_its_median_round_and_every_round():
    out = combine_rounds({"ceiling": _runs(200, 100, 300), "peer": _runs(50, 40, 45), "pipeline": _runs(45, 38, 44)})
    assert out["ceiling"]["events_per_s"] == 200
    assert out["peer"]["events_per_s"] == 45
    assert out["pipeline"]["events_per_s"] == 44
    assert out["pipeline"]["rounds_events_per_s"] == [45, 38, 44]
    assert out["pipeline"]["notes"].endswith("the median of 3 interleaved rounds: 45, 38, 44 events/s")


def test_ratios_are_the_median_of_each_rounds_own_ratio():
    # round by round the pipeline is ahead twice; the ratio of the medians (44 / 45) would say behind
    out = combine_rounds({"ceiling": _runs(200, 100, 300), "peer": _runs(40, 45, 50), "pipeline": _runs(45, 38, 52)})
    assert out["pipeline"]["ratio_to_peer_rounds"] == [1.125, 0.844, 1.04]
    assert out["pipeline"]["ratio_to_peer"] == 1.04
    assert _ratio(out["pipeline"], "peer") == "1.04 (median of the rounds: 1.12, 0.84, 1.04)"
    assert out["pipeline"]["ratio_to_ceiling"] == 0.225


def test_a_failed_round_is_left_out_and_one_round_reads_as_before():
    out = combine_rounds({"ceiling": _runs(200, 100), "peer": _runs(None, 40), "pipeline": _runs(30, 38)})
    assert out["pipeline"]["ratio_to_peer_rounds"] == [0.95]
    one = combine_rounds({"ceiling": _runs(200), "peer": _runs(40), "pipeline": _runs(30)})
    assert one["pipeline"]["notes"] == "n" and "rounds_events_per_s" not in one["pipeline"]
    assert _ratio(one["pipeline"], "peer") == "0.75"
    assert combine_rounds({"ceiling": _runs(200), "peer": _runs(None), "pipeline": _runs(None)})["pipeline"]["status"] == "error"
