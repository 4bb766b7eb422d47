#!/usr/bin/env python3
"""Runs the KPI queries of infra/athena/queries.sql on a local analytics export with DuckDB.

    python scripts/duckdb-queries.py EXPORT_DIR [QUERIES_SQL] [--json]

EXPORT_DIR is what the local desk writes with `--export DIR` (or `omnidesk-local export`):
`table=<name>/dt=<YYYY-MM-DD>/part-<HH>.parquet`. Each table becomes a view over its Hive
partitions, named as the Glue tables are, so the SQL runs unchanged. Without --json the
results print as tables; with it, as one JSON object {query name: [rows]} (the tests read it).
"""

import json
import pathlib
import sys

import duckdb

TABLES = ("ticket_events", "tickets", "kpi_hourly")


def queries(text):
    """(name, sql) for every `-- name:` section."""
    found, name, lines = [], None, []
    for line in text.splitlines():
        if line.startswith("-- name:"):
            if name:
                found.append((name, "\n".join(lines).strip().rstrip(";")))
            name, lines = line.split(":", 1)[1].strip(), []
        elif name:
            lines.append(line)
    if name:
        found.append((name, "\n".join(lines).strip().rstrip(";")))
    return found


def connect(export):
    con = duckdb.connect()
    for table in TABLES:
        folder = export / f"table={table}"
        if not any(folder.glob("*/*.parquet")):
            continue
        pattern = str(folder / "*" / "*.parquet").replace("'", "''")
        con.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = true)"
        )
    return con


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    export = pathlib.Path(args[0])
    sql = pathlib.Path(args[1] if len(args) > 1 else pathlib.Path(__file__).parent.parent / "infra/athena/queries.sql")
    con = connect(export)
    results = {}
    for name, query in queries(sql.read_text()):
        cursor = con.execute(query)
        columns = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        results[name] = [list(row) for row in rows]
        if "--json" not in argv:
            print(f"-- {name}")
            print("\t".join(columns))
            for row in rows:
                print("\t".join("" if v is None else str(v) for v in row))
            print()
    if "--json" in argv:
        json.dump(results, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
