"""The child process that moves Arrow data in and out of a SQLite store through ADBC.

ADBC's SQLite driver links its own copy of the SQLite library. Two copies of SQLite in one
process that open the same file break POSIX advisory locking: closing one copy's file
descriptor drops every lock the *process* holds on that file, including the other copy's
(sqlite.org, "How To Corrupt An SQLite Database File", §2.2.1 and §2.6). The web server and
the CLI keep Python's ``sqlite3`` (SQLAlchemy) connections open on the store, so ADBC may
never open the store inside them. It runs here instead, in a short-lived child process,
where SQLite's cross-process locking is correct; the parent exchanges Arrow IPC files with
it (:mod:`clientbase.storage.arrow_io`).

This file is executed as a script (``python -I sqlite_child.py JOB.json``) and imports
nothing from clientbase, so that it starts quickly. The job file is JSON::

    {"database": "/path/store.sqlite", "busy_timeout_ms": 30000,
     "jobs": [{"query": "SELECT ...", "out": "/tmp/x/orders.0.arrow"},
              {"ingest": "customer_scores", "source": "/tmp/x/scores.arrow"}]}

Query jobs write their result as an Arrow IPC file; ingest jobs append an Arrow IPC file to
a table, all ingest jobs in one transaction that is committed at the end. On failure the
process prints the error on stderr and exits with status 1 (nothing is committed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _run(spec: dict[str, Any]) -> None:
    import adbc_driver_manager as dm
    import adbc_driver_sqlite
    import pyarrow as pa
    import pyarrow.ipc as ipc

    database = adbc_driver_sqlite.connect(spec["database"])
    conn = dm.AdbcConnection(database)
    writes = any("ingest" in job for job in spec["jobs"])
    try:
        stmt = dm.AdbcStatement(conn)
        stmt.set_sql_query(f"PRAGMA busy_timeout = {int(spec.get('busy_timeout_ms', 30000))}")
        stmt.execute_update()
        stmt.close()
        if writes:
            conn.set_autocommit(False)
        for job in spec["jobs"]:
            stmt = dm.AdbcStatement(conn)
            try:
                if "query" in job:
                    stmt.set_sql_query(job["query"])
                    stream, _ = stmt.execute_query()
                    reader = pa.RecordBatchReader.from_stream(stream)
                    with ipc.new_file(job["out"], reader.schema) as sink:
                        for batch in reader:
                            sink.write_batch(batch)
                else:
                    with pa.memory_map(job["source"]) as source:
                        table = ipc.open_file(source).read_all()
                        stmt.set_options(
                            **{
                                "adbc.ingest.target_table": job["ingest"],
                                "adbc.ingest.mode": "adbc.ingest.mode.append",
                            }
                        )
                        stmt.bind_stream(
                            pa.RecordBatchReader.from_batches(table.schema, table.to_batches())
                        )
                        stmt.execute_update()
            finally:
                stmt.close()
        if writes:
            conn.commit()
    finally:
        conn.close()
        database.close()


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: sqlite_child.py JOB.json\n")
        return 2
    try:
        _run(json.loads(Path(argv[1]).read_text("utf-8")))
    except Exception as exc:  # reported to the parent through stderr and the exit status
        sys.stderr.write(f"{type(exc).__name__}: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
