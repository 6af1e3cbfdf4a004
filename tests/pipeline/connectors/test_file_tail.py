"""FileTail on real files: whole lines only, resume from a position, rotation and truncation."""
from __future__ import annotations

import os

from pipeline.connectors.file_tail import FileTail


def _drain(tail: FileTail) -> list[tuple[int, bytes]]:
    out = []
    while True:
        first, lines = tail.read()
        if not lines:
            return out
        out.extend(enumerate(lines, first))


def test_whole_lines_only_and_resume(tmp_path):
    p = tmp_path / "queue_log"
    p.write_bytes(b"a\nb\nc-partial")
    tail = FileTail(p)
    assert _drain(tail) == [(1, b"a"), (2, b"b")]
    with open(p, "ab") as f:
        f.write(b"-done\nd\n")
    assert _drain(tail) == [(3, b"c-partial-done"), (4, b"d")]
    pos = tail.position
    tail.close()
    with open(p, "ab") as f:
        f.write(b"e\n")
    again = FileTail(p, pos)
    assert _drain(again) == [(5, b"e")]


def test_rotation_by_rename_reads_the_old_file_to_its_end(tmp_path):
    p = tmp_path / "queue_log"
    p.write_bytes(b"1\n2\n")
    tail = FileTail(p)
    assert _drain(tail) == [(1, b"1"), (2, b"2")]
    with open(p, "ab") as f:
        f.write(b"3\n4-no-newline")  # written just before logrotate renames it
    os.rename(p, tmp_path / "queue_log.1")
    p.write_bytes(b"new1\n")
    assert _drain(tail) == [(3, b"3"), (4, b"4-no-newline"), (1, b"new1")]
    assert tail.rotations == 1


def test_rotation_while_stopped_finishes_the_rotated_sibling(tmp_path):
    p = tmp_path / "queue_log"
    p.write_bytes(b"1\n")
    tail = FileTail(p)
    _drain(tail)
    pos = tail.position
    tail.close()
    with open(p, "ab") as f:
        f.write(b"2\n")
    os.rename(p, tmp_path / "queue_log-20241202")
    p.write_bytes(b"x\ny\n")
    again = FileTail(p, pos)
    assert _drain(again) == [(2, b"2"), (1, b"x"), (2, b"y")]


def test_truncation_restarts_at_zero(tmp_path):
    p = tmp_path / "queue_log"
    p.write_bytes(b"1\n2\n3\n")
    tail = FileTail(p)
    _drain(tail)
    with open(p, "r+b") as f:  # copytruncate
        f.truncate(0)
    with open(p, "ab") as f:
        f.write(b"z\n")
    assert _drain(tail) == [(1, b"z")]
    assert tail.truncations == 1


def test_a_new_file_with_the_same_inode_is_not_mistaken_for_the_old(tmp_path):
    p = tmp_path / "queue_log"
    p.write_bytes(b"first file line\n")
    tail = FileTail(p)
    _drain(tail)
    pos = tail.position
    tail.close()
    p.write_bytes(b"other content, longer than before\n")  # same inode, other first bytes
    again = FileTail(p, pos)
    assert _drain(again) == [(1, b"other content, longer than before")]


def test_missing_file_waits(tmp_path):
    p = tmp_path / "queue_log"
    tail = FileTail(p)
    assert tail.read() == (0, [])
    p.write_bytes(b"hello\n")
    assert _drain(tail) == [(1, b"hello")]
