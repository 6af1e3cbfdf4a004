"""Read a growing log file by whole lines, like `tail -F`, from a saved position.

`Position` = the file's identity (device, inode, a hash of its first bytes) + the byte offset
after the last whole line handed out + that line's number. The caller saves it (the checkpoint)
only after what it did with the lines is durable, so a restart neither loses nor repeats lines.

Rotation: when the path names another file (new inode: logrotate's rename-and-create), the old
file is read to its end first (a last line without a newline counts as a line), then the new one
from its start. When the file shrinks below the offset (truncation, logrotate's copytruncate),
reading restarts at 0. On open with a saved position whose file is no longer at the path, a
sibling with that inode (`queue_log.1`, `queue_log-20241202`, ...) is read to its end first, so
lines written between a stop and a rotation are not lost. A partial last line (no newline yet)
is left for the next read.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from pathlib import Path

HEAD_BYTES = 256


@dataclass
class Position:
    dev: int
    ino: int
    head: str       # sha1 of the file's first `head_len` bytes (guards against inode reuse)
    head_len: int
    offset: int
    line: int

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Position":
        return cls(int(d["dev"]), int(d["ino"]), str(d["head"]), int(d["head_len"]), int(d["offset"]), int(d["line"]))


def _head(f, n: int) -> str:
    f.seek(0)
    return hashlib.sha1(f.read(n)).hexdigest()


class FileTail:
    def __init__(self, path: Path | str, position: Position | None = None, *, chunk_bytes: int = 1 << 20):
        self.path = Path(path)
        self.chunk_bytes = chunk_bytes
        self._f = None
        self._pos: Position | None = None
        self._draining = False  # reading a rotated-away file to its end
        self.rotations = 0
        self.truncations = 0
        self._open_initial(position)

    # -- state --------------------------------------------------------------------------------
    @property
    def position(self) -> Position | None:
        return None if self._pos is None else Position(**asdict(self._pos))

    @property
    def current_name(self) -> str:
        return str(self.path) if not self._draining else f"{self.path} (rotated)"

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None

    # -- opening ------------------------------------------------------------------------------
    def _open_path(self) -> bool:
        try:
            f = open(self.path, "rb")
        except FileNotFoundError:
            return False
        st = os.fstat(f.fileno())
        self._f = f
        n = min(st.st_size, HEAD_BYTES)
        self._pos = Position(st.st_dev, st.st_ino, _head(f, n), n, 0, 0)
        self._draining = False
        return True

    def _open_initial(self, saved: Position | None) -> None:
        if saved is not None:
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                st = None
            if st is not None and (st.st_dev, st.st_ino) == (saved.dev, saved.ino):
                f = open(self.path, "rb")
                if _head(f, saved.head_len) == saved.head:
                    self._f, self._pos = f, Position(**asdict(saved))
                    if st.st_size < saved.offset:
                        self._restart_truncated()
                    return
                f.close()
            old = self._find_rotated(saved)
            if old is not None:  # finish the file we were reading before it was rotated away
                self._f, self._pos, self._draining = old, Position(**asdict(saved)), True
                return
        self._open_path()

    def _find_rotated(self, saved: Position):
        parent = self.path.parent if str(self.path.parent) else Path(".")
        try:
            names = [p for p in parent.iterdir() if p.name.startswith(self.path.name) and p != self.path]
        except OSError:
            return None
        for p in names:
            try:
                st = os.stat(p)
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (saved.dev, saved.ino):
                f = open(p, "rb")
                if _head(f, saved.head_len) == saved.head:
                    return f
                f.close()
        return None

    def _restart_truncated(self) -> None:
        self.truncations += 1
        st = os.fstat(self._f.fileno())
        n = min(st.st_size, HEAD_BYTES)
        self._pos = Position(st.st_dev, st.st_ino, _head(self._f, n), n, 0, 0)

    # -- reading ------------------------------------------------------------------------------
    def read(self) -> tuple[int, list[bytes]]:
        """(number of the first line, whole lines without their newline); ([], 0) when nothing new.

        At the end of the current file, checks for rotation/truncation and moves on."""
        if self._f is None and not self._open_path():
            return 0, []
        lines = self._read_chunk(final=self._draining)
        if lines[1]:
            return lines
        # nothing new here: rotated, truncated, or just quiet?
        if self._draining:
            self.close()
            self.rotations += 1
            if not self._open_path():
                return 0, []
            return self._read_chunk(final=False)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return 0, []  # rotated away, the new file not created yet: keep the old one open
        pos = self._pos
        if (st.st_dev, st.st_ino) != (pos.dev, pos.ino):
            self._draining = True  # read what was written just before the rename, then switch
            return self.read()
        if st.st_size < pos.offset:
            self._restart_truncated()
            return self._read_chunk(final=False)
        return 0, []

    def _read_chunk(self, *, final: bool) -> tuple[int, list[bytes]]:
        pos = self._pos
        self._f.seek(pos.offset)
        chunk = self._f.read(self.chunk_bytes)
        if not chunk:
            return 0, []
        end = chunk.rfind(b"\n")
        if end < 0:
            if not final and len(chunk) < self.chunk_bytes:
                return 0, []  # a line still being written
            end = len(chunk)  # a last line without newline (rotated file) or a giant line
            lines = [chunk]
        else:
            lines = chunk[:end].split(b"\n")
            if final and end + 1 < len(chunk) and len(chunk) < self.chunk_bytes:
                lines.append(chunk[end + 1:])
                end = len(chunk) - 1
        first = pos.line + 1
        pos.offset += end + 1 if end < len(chunk) else end
        pos.line += len(lines)
        return first, lines
