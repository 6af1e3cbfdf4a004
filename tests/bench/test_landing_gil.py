import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_lands_alone_and_next_to_a_busy_thread_per_interval():
    # its own process: chDB opens one data directory per process
    out = subprocess.run([sys.executable, "-m", "bench.landing_gil", "--n", "4000", "--batch", "1000",
                          "--switch", "0.005", "0.001"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    assert "4,000 events, 4 landings of up to 1,000 events" in out
    assert "alone: encoding" in out and "on the loop's thread, then landing" in out
    assert "switch interval 5 ms: landing" in out and "switch interval 1 ms: landing" in out
