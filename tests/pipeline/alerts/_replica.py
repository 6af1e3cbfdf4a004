"""One API replica's alert service in a process of its own, for the crash test (kill -9).
The live view is read from a JSON file (re-read when it changes); the service's status is written
to `<status>` after every evaluation: {"owner": bool, "ticks": int}."""
from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import orjson

from pipeline.alerts.service import AlertService


async def main(a) -> None:
    view_path, cache = Path(a.view), {"mtime": None, "view": None}

    def view():
        m = os.stat(view_path).st_mtime_ns
        if m != cache["mtime"]:
            cache["mtime"], cache["view"] = m, orjson.loads(view_path.read_bytes())
        return cache["view"]

    svc = AlertService(bootstrap=a.bootstrap, topic=a.topic, group=a.group, state_topic=a.state_topic,
                       rules_file=Path(a.rules), view_source=view, smtp=a.smtp, sender="tablero@example.com",
                       interval_s=0.05)
    await svc.start()
    status = Path(a.status)
    while True:
        tmp = status.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps({"owner": svc.owner, "ticks": svc.ticks}))
        tmp.replace(status)
        await asyncio.sleep(0.05)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    for name in ("bootstrap", "topic", "group", "state_topic", "rules", "view", "smtp", "status"):
        p.add_argument("--" + name.replace("_", "-"), required=True)
    asyncio.run(main(p.parse_args()))
