"""Run queries on a stopped stack's chDB directory in a separate process (chDB allows one data
directory per process, and the bench process may open another one).

    python -m bench.chdb_query <data_dir> 'SELECT ...' ['SELECT ...' ...]   -> JSON list of row lists
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from pipeline.history import clickhouse_store

    data_dir, *queries = argv
    client = clickhouse_store.connect(f"chdb://{Path(data_dir).resolve()}/clickhouse")
    out = [clickhouse_store.query_rows(client, q) for q in queries]
    print(json.dumps(out, default=str))
    return 0


def run(data_dir: Path, *queries: str) -> list[list[dict]]:
    import subprocess

    from bench.stack import ROOT

    res = subprocess.run([sys.executable, "-m", "bench.chdb_query", str(data_dir), *queries],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    if res.returncode != 0:
        raise RuntimeError(f"chdb query failed: {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
