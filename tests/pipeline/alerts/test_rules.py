"""The rules file: the shapes from issue 15 parse; every mistake names the rule and the field."""
from __future__ import annotations

import pytest

from pipeline.alerts.rules import RulesError, parse_rules_toml

ISSUE_EXAMPLE = """
[[rules]]
name = "email waits too long"
queue = "support-email"
metric = "oldest_wait_s"
op = ">"
threshold = 3600
for_s = 60
clear = 1800
cooldown_s = 600
severity = "warning"
notify = ["webhook:http://hooks.example/tablero", "slack:https://hooks.slack.com/services/T/B/X",
          "email:team@example.com"]

[[rules]]
name = "untouched email"
kind = "contact"
channel = "email"
untouched_for_s = 86400
escalate_to = "second-line"
notify = ["webhook:http://hooks.example/tablero"]

[[rules]]
name = "voice service level today"
channel = "voice"
metric = "today.service_level"
op = "<"
threshold = 0.8
clear = 0.85

[[rules]]
name = "nobody available"
per = "total"
metric = "agents.available"
op = "<"
threshold = 1
for_s = 30

[[rules]]
name = "abandons"
metric = "last_30m.abandoned"
op = ">="
threshold = 5

[[rules]]
name = "unhappy customer"
kind = "contact"
rating_at_most = 2
"""


def test_issue_example_parses():
    rs = parse_rules_toml(ISSUE_EXAMPLE)
    names = [r.name for r in rs.rules]
    assert names == ["email waits too long", "untouched email", "voice service level today",
                     "nobody available", "abandons", "unhappy customer"]
    first = rs.rules[0]
    assert (first.for_s, first.clear, first.cooldown_s, first.clear_value) == (60, 1800, 600, 1800)
    assert rs.rules[1].contact_kind == "untouched" and rs.rules[1].effective_threshold == 86400
    assert rs.rules[5].contact_kind == "rating" and rs.rules[5].effective_op == "<="
    assert rs.rules[2].clear_value == 0.85 and rs.rules[4].clear_value == 5


@pytest.mark.parametrize("body, expected", [
    ('name = "x"\nmetric = "waitng"\nthreshold = 1', ["rule 'x', field metric", "waitng", "oldest_wait_s"]),
    ('name = "x"\nmetric = "waiting"', ["rule 'x', field threshold", "needs a threshold"]),
    ('name = "x"\nmetric = "waiting"\nthreshold = 1\nop = "=="', ["rule 'x', field op"]),
    ('name = "x"\nmetric = "waiting"\nthreshold = 10\nclear = 20', ["rule 'x', field clear", "at or below"]),
    ('name = "x"\nmetric = "today.service_level"\nop = "<"\nthreshold = 0.8\nclear = 0.7',
     ["field clear", "at or above"]),
    ('name = "x"\nmetric = "agents.available"\nthreshold = 1', ["field per", "per = \\\"total\\\""]),
    ('name = "x"\nmetric = "waiting"\nthreshold = 1\nfor_s = -1', ["rule 'x', field for_s"]),
    ('name = "x"\nmetric = "waiting"\nthreshold = 1\nnotify = ["pager:123"]', ["rule 'x', field notify", "pager:123"]),
    ('name = "x"\nmetric = "waiting"\nthreshold = 1\nnotify = ["email:nobody"]', ["field notify", "email:someone"]),
    ('name = "x"\nkind = "contact"', ["field untouched_for_s", "exactly one"]),
    ('name = "x"\nkind = "contact"\nrating_at_most = 2\nmetric = "waiting"', ["field metric", "only for kind"]),
    ('name = "x"\nmetric = "waiting"\nthreshold = 1\nuntouched_for_s = 5', ["field untouched_for_s"]),
    ('name = "x"\nkind = "contact"\nuntouched_for_s = 5\nfor_s = 3', ["rule 'x', field for_s", "only for kind"]),
    ('name = "x"\nmetric = "waiting"\nthreshold = 1\nthresold = 2', ["rule 'x', field thresold"]),
    ('metric = "waiting"\nthreshold = 1', ["rule #1, field name"]),
])
def test_errors_name_rule_and_field(body, expected):
    with pytest.raises(RulesError) as exc:
        parse_rules_toml("[[rules]]\n" + body, "alerts.toml")
    msg = str(exc.value).replace('"', '\\"')
    assert msg.startswith("alerts.toml: ")
    for part in expected:
        assert part in msg, msg


def test_duplicate_names_and_bad_toml():
    with pytest.raises(RulesError, match="two rules are called 'a'"):
        parse_rules_toml('[[rules]]\nname="a"\nmetric="waiting"\nthreshold=1\n'
                         '[[rules]]\nname="a"\nmetric="waiting"\nthreshold=2\n')
    with pytest.raises(RulesError, match="not valid TOML"):
        parse_rules_toml("[[rules]\nname=")
    with pytest.raises(RulesError, match="unknown top-level"):
        parse_rules_toml("[rule]\nname='a'")


def test_every_problem_is_reported_at_once():
    with pytest.raises(RulesError) as exc:
        parse_rules_toml('[[rules]]\nname="a"\nmetric="nope"\nthreshold=1\n'
                         '[[rules]]\nname="b"\nkind="contact"\n')
    assert "rule 'a'" in str(exc.value) and "rule 'b'" in str(exc.value)


def test_empty_file_is_no_rules():
    assert parse_rules_toml("").rules == ()


def test_the_documented_rules_files_are_valid():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    for doc, expected in (("docs/alerts.md", 7), ("README.md", 2)):
        text = (root / doc).read_text()
        # the first TOML block that holds rules (README also documents calendars in TOML)
        block = next(b for b in re.findall(r"```toml\n(.*?)```", text, re.S) if "[[rules]]" in b)
        assert len(parse_rules_toml(block, doc).rules) == expected, doc
