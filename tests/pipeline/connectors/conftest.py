from __future__ import annotations

import pytest

from tests.dovecot import Dovecot


@pytest.fixture(scope="module")
def dovecot():
    """One real dovecot for the module; tests take a mailbox (user) of their own."""
    server = Dovecot(tls=True)
    server.start()
    try:
        yield server
    finally:
        server.cleanup()
