"""A second worker with the same member id on one host stops with a message naming the settings."""
from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.kafka.worker_lock import WorkerIdInUse, hold_worker_id

HOLD = "import sys, time; from pathlib import Path; from pipeline.kafka.worker_lock import hold_worker_id; " \
       "hold_worker_id('g', sys.argv[2], Path(sys.argv[1])); print('held', flush=True); time.sleep(60)"


def test_a_second_holder_of_the_same_id_is_refused_and_another_id_is_not(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "w1"], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "held"
        with pytest.raises(WorkerIdInUse) as exc:
            hold_worker_id("g", "w1", tmp_path)
        assert "TABLERO_WORKER_ID" in str(exc.value) and str(other.pid) in str(exc.value)
        hold_worker_id("g", "w2", tmp_path)
        hold_worker_id("another-group", "w1", tmp_path)
    finally:
        other.kill()
        other.wait()


def test_the_lock_goes_with_a_killed_process(tmp_path):
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "w1"], stdout=subprocess.PIPE, text=True)
    assert other.stdout.readline().strip() == "held"
    other.kill()  # SIGKILL: no clean-up runs
    other.wait()
    hold_worker_id("g", "w1", tmp_path)
