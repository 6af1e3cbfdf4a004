from __future__ import annotations

import pytest

from tests.system.stack import Stack


@pytest.fixture
def stack(kafka_bootstrap, tmp_path):
    s = Stack(kafka_bootstrap, tmp_path)
    s.start()
    yield s
    s.stop()
