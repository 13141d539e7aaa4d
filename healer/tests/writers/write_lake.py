"""Writes Hive-partitioned Parquet tables with other writers, for lakehealer's tests.

usage: write_lake.py LAKE_DIR

Creates, under LAKE_DIR:
  pa_orders/dt=.../*.parquet            written by pyarrow.dataset (2 days x 2 files)
  _landing/pa_orders/...                the same files, as a landing copy
  duck_orders/dt=.../data_*.parquet     written by DuckDB COPY ... PARTITION_BY
"""
import os
import shutil
import sys

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

root = sys.argv[1]
os.makedirs(root, exist_ok=True)

rows = 2000
table = pa.table(
    {
        "id": pa.array(range(rows), pa.int64()),
        "price": pa.array([i * 0.5 for i in range(rows)], pa.float64()),
        "note": pa.array([None if i % 10 == 0 else f"n{i}" for i in range(rows)], pa.string()),
        "dt": pa.array(["2024-05-01" if i < rows // 2 else "2024-05-02" for i in range(rows)]),
    }
)
ds.write_dataset(
    table,
    os.path.join(root, "pa_orders"),
    format="parquet",
    partitioning=ds.partitioning(pa.schema([("dt", pa.string())]), flavor="hive"),
    max_rows_per_file=rows // 4,
    max_rows_per_group=rows // 8,
    basename_template="part-{i}.parquet",
)
shutil.copytree(os.path.join(root, "pa_orders"), os.path.join(root, "_landing", "pa_orders"))
# Spark-style marker file, which must be ignored.
open(os.path.join(root, "pa_orders", "_SUCCESS"), "w").close()

con = duckdb.connect()
con.execute(
    """
    COPY (
        SELECT i::BIGINT AS id,
               (i * 0.25)::DOUBLE AS price,
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'd' || i END AS note,
               CASE WHEN i < 1500 THEN '2024-06-01' ELSE '2024-06-02' END AS dt
        FROM range(3000) t(i)
    ) TO '{}' (FORMAT PARQUET, PARTITION_BY (dt))
    """.format(os.path.join(root, "duck_orders"))
)
print("ok")
