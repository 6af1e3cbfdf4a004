"""A dead letter written twice (a crash between a landing's write and its commit replays the
batch) reads once: readers keep the first of each original's position."""
from __future__ import annotations

from pipeline.schemas.dead_letters import DeadLetter, first_of_each


def letter(partition: int, offset: int, code: str = "invalid_field", **kw) -> DeadLetter:
    return DeadLetter(b"{}", b"k", code, "why", None, partition, offset, **kw)


def test_a_replayed_dead_letter_reads_once_and_the_first_copy_wins():
    topic = [(0, letter(1, 7)), (1, letter(1, 8)), (2, letter(2, 7)),
             (3, letter(1, 7, code="stale_agent_state")), (4, letter(1, 8))]
    assert [(pos, dl.partition, dl.offset, dl.code) for pos, dl in first_of_each(topic)] == [
        (0, 1, 7, "invalid_field"), (1, 1, 8, "invalid_field"), (2, 2, 7, "invalid_field")]


def test_connector_letters_are_identified_by_file_and_line_and_unknown_positions_are_all_kept():
    topic = [(0, letter(-1, -1, source_file="queue_log", source_line=3)),
             (1, letter(-1, -1, source_file="queue_log", source_line=3)),
             (2, letter(-1, -1, source_file="queue_log", source_line=4)),
             (3, letter(-1, -1)), (4, letter(-1, -1))]
    assert [pos for pos, _ in first_of_each(topic)] == [0, 2, 3, 4]


def test_the_identity_survives_the_trip_through_kafka_headers():
    dl = letter(3, 41)
    back = DeadLetter.from_record(dl.key, dl.value, dl.headers())
    assert back.identity == dl.identity == ("event", 3, 41)
