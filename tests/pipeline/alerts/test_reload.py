"""The rules file is re-read when it changes; a broken edit keeps the rules in force and says why."""
from __future__ import annotations

import os

from pipeline.alerts.service import AlertService


def _touch(path, n: int) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + n * 1_000_000_000))


def test_reload_on_change_and_keep_rules_on_error(tmp_path):
    path = tmp_path / "alerts.toml"
    path.write_text('[[rules]]\nname = "deep"\nmetric = "waiting"\nthreshold = 5\n')
    svc = AlertService(bootstrap="127.0.0.1:1", topic="t", group="g", state_topic="s", rules_file=path,
                       view_source=lambda: None)
    assert [r.name for r in svc.rules.rules] == ["deep"] and svc.rules_error is None
    assert svc.reload_rules() is False                       # unchanged: not re-read
    path.write_text('[[rules]]\nname = "deep"\nmetric = "depth"\nthreshold = 5\n')
    _touch(path, 1)
    assert svc.reload_rules() is False
    assert [r.name for r in svc.rules.rules] == ["deep"]     # still in force
    assert "rule 'deep', field metric" in svc.rules_error
    path.write_text('[[rules]]\nname = "deeper"\nmetric = "waiting"\nthreshold = 9\n')
    _touch(path, 2)
    assert svc.reload_rules() is True
    assert [r.name for r in svc.rules.rules] == ["deeper"] and svc.rules_error is None
    path.unlink()
    assert svc.reload_rules() is False and "cannot read the rules file" in svc.rules_error
    assert svc.reload_rules() is False                       # still missing: not re-read, not re-logged
    path.write_text('[[rules]]\nname = "back"\nmetric = "waiting"\nthreshold = 9\n')
    assert svc.reload_rules() is True and [r.name for r in svc.rules.rules] == ["back"]
