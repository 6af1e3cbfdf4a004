import sys

import pytest
from pydantic import ValidationError

from pipeline.agents.gil import shorten_switch_interval
from pipeline.settings import Settings


def test_sets_the_interval_for_the_process():
    before = sys.getswitchinterval()
    try:
        assert shorten_switch_interval(0.001) == pytest.approx(0.001)
        assert sys.getswitchinterval() == pytest.approx(0.001)
    finally:
        sys.setswitchinterval(before)


def test_default_is_a_millisecond_and_bad_values_name_the_setting(monkeypatch):
    monkeypatch.delenv("TABLERO_GIL_SWITCH_S", raising=False)
    assert Settings().gil_switch_s == 0.001
    monkeypatch.setenv("TABLERO_GIL_SWITCH_S", "0")
    with pytest.raises(ValidationError, match="gil_switch_s"):
        Settings()
