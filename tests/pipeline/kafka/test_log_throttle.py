"""The Kafka client log throttle: first of a kind shown, repeats held back and counted."""
from __future__ import annotations

import logging

from pipeline.kafka.log_throttle import RepeatThrottle


def record(name: str, msg: str, *args) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, None)


def test_repeats_of_a_kind_are_held_back_then_counted():
    now = [0.0]
    throttle = RepeatThrottle(every_s=30, clock=lambda: now[0])
    assert throttle.filter(record("aiokafka.conn", "Unable connect to node with id %s: %s", 1, "refused"))
    shown = []
    for t in range(1, 40):
        now[0] = float(t)
        r = record("aiokafka.conn", "Unable connect to node with id %s: %s", 2, "refused")
        if throttle.filter(r):
            shown.append((t, r.getMessage()))
    assert shown == [(30, "Unable connect to node with id 2: refused [29 more like this from aiokafka.conn in the last 30s]")]


def test_other_kinds_and_other_loggers_pass():
    throttle = RepeatThrottle(every_s=30, clock=lambda: 0.0)
    assert throttle.filter(record("aiokafka.conn", "a %s", 1))
    assert throttle.filter(record("aiokafka.conn", "b %s", 1))          # another kind
    assert throttle.filter(record("aiokafka.consumer", "a %s", 1))      # another logger
    for _ in range(5):
        assert throttle.filter(record("pipeline.agents.process", "offsets not committed (%s)", "x"))
    assert not throttle.filter(record("aiokafka.conn", "a %s", 2))


# -- quiet start: aiokafka's retriable "Group Coordinator Request failed" ERRORs (issue 11) ----------
def _coordinator_record(err) -> logging.LogRecord:
    return logging.LogRecord("aiokafka.consumer.group_coordinator", logging.ERROR, __file__, 1,
                             "Group Coordinator Request failed: %s", (err,), None)


def test_retriable_coordinator_errors_are_hidden_at_start_then_warnings():
    from kafka.errors import GroupAuthorizationFailedError
    from aiokafka.errors import GroupCoordinatorNotAvailableError

    from pipeline.kafka.log_throttle import RetriableCoordinatorErrors

    t = [0.0]
    f = RetriableCoordinatorErrors(grace_s=60, clock=lambda: t[0])
    assert f.filter(_coordinator_record(GroupCoordinatorNotAvailableError())) is False
    fatal = _coordinator_record(GroupAuthorizationFailedError())
    assert f.filter(fatal) is True and fatal.levelno == logging.ERROR  # not retriable: shown as it is
    t[0] = 61.0
    late = _coordinator_record(GroupCoordinatorNotAvailableError())
    assert f.filter(late) is True and (late.levelno, late.levelname) == (logging.WARNING, "WARNING")
    other = logging.LogRecord("aiokafka.consumer.group_coordinator", logging.ERROR, __file__, 1,
                              "Heartbeat failed: %r", ("x",), None)
    assert f.filter(other) is True and other.levelno == logging.ERROR


def test_root_level_rises_to_what_a_real_handler_shows():
    from pipeline.kafka.log_throttle import skip_unshown_records

    class SpinnerHandler(logging.Handler):  # mode's console spinner: DEBUG, shows nothing when quiet
        def emit(self, record):
            pass

    root = logging.getLogger()
    saved = root.level, root.handlers[:]
    shown, spinner = logging.StreamHandler(), SpinnerHandler(logging.DEBUG)
    shown.setLevel(logging.WARNING)
    try:
        root.handlers[:] = [shown, spinner]
        root.setLevel(logging.DEBUG)
        skip_unshown_records()
        assert root.level == logging.WARNING
        assert not logging.getLogger("aiokafka.producer.producer").isEnabledFor(logging.DEBUG)
        root.setLevel(logging.DEBUG)
        shown.setLevel(logging.DEBUG)  # a debug log level asked for: left alone
        skip_unshown_records()
        assert root.level == logging.DEBUG
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]
