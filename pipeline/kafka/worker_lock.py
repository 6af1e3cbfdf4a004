"""One running worker per (consumer group, member id) on a host. Two workers with the same static
member id would take the partitions from each other over and over; a lock file in the host's temp
directory makes the second one stop at once with a message instead. The lock goes with the
process, also on kill -9."""
from __future__ import annotations

import fcntl
import os
import re
import tempfile
from pathlib import Path


class WorkerIdInUse(RuntimeError):
    pass


_held: list = []  # the open lock files of this process


def hold_worker_id(group: str, worker_id: str, lock_dir: Path | None = None) -> None:
    lock_dir = lock_dir or Path(tempfile.gettempdir()) / "tablero-workers"
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / re.sub(r"[^A-Za-z0-9_.-]", "_", f"{group}--{worker_id}.lock")
    f = open(path, "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.seek(0)
        pid = f.read().strip() or "?"
        f.close()
        raise WorkerIdInUse(
            f"another worker (pid {pid}) already runs as {worker_id!r} in group {group!r} on this host "
            f"({path}); give each "
            "worker its own TABLERO_DATA_DIR or TABLERO_WORKER_ID") from None
    f.truncate(0)
    f.write(str(os.getpid()))
    f.flush()
    _held.append(f)
