"""Writes clean Parquet files of many shapes with other writers, for the damaged-bytes corpus.

usage: write_zoo.py DIR

Each file is written by pyarrow or DuckDB with different options: page format v1 and v2,
dictionary on and off, every codec, page checksums and page indexes, legacy INT96 timestamps,
no embedded Arrow schema, nested and decimal columns, many small pages.
"""
import datetime
import decimal
import os
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = 400


def rich_table():
    return pa.table(
        {
            "i32": pa.array([i if i % 11 else None for i in range(n)], pa.int32()),
            "i64": pa.array(range(n), pa.int64()),
            "f64": pa.array([i / 7 for i in range(n)], pa.float64()),
            "flag": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
            "s": pa.array([f"s{i % 13}" if i % 5 else None for i in range(n)], pa.string()),
            "day": pa.array([datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 40) for i in range(n)], pa.date32()),
            "ts": pa.array([1_700_000_000_000_000 + i for i in range(n)], pa.timestamp("us", tz="UTC")),
            "amount": pa.array([decimal.Decimal(i) / 100 for i in range(n)], pa.decimal128(12, 2)),
            "tags": pa.array([[i, i + 1] if i % 4 else [] for i in range(n)], pa.list_(pa.int64())),
            "pt": pa.array([{"x": i, "y": f"y{i}"} for i in range(n)], pa.struct([("x", pa.int32()), ("y", pa.string())])),
            "attrs": pa.array([[("k", i)] for i in range(n)], pa.map_(pa.string(), pa.int64())),
        }
    )


t = rich_table()
pq.write_table(t, f"{out}/pa_v1_snappy_dict.parquet", compression="snappy", data_page_version="1.0",
               use_dictionary=True, write_page_index=True, row_group_size=150)
pq.write_table(t, f"{out}/pa_v2_zstd_plain_crc.parquet", compression="zstd", data_page_version="2.0",
               use_dictionary=False, write_page_checksum=True, row_group_size=250)
pq.write_table(t, f"{out}/pa_gzip.parquet", compression="gzip")
pq.write_table(t, f"{out}/pa_lz4.parquet", compression="lz4")
pq.write_table(t, f"{out}/pa_brotli_v2.parquet", compression="brotli", data_page_version="2.0")
pq.write_table(t, f"{out}/pa_none_small_pages.parquet", compression="none", data_page_size=256,
               store_schema=False, write_statistics=False)
pq.write_table(t.select(["i64", "s", "ts"]), f"{out}/pa_legacy_int96.parquet", version="1.0",
               use_deprecated_int96_timestamps=True, compression="snappy")

con = duckdb.connect()
con.execute(
    f"""
    COPY (
        SELECT i::BIGINT AS id, (i * 0.25)::DOUBLE AS price, (i / 3)::DECIMAL(10, 3) AS amount,
               CASE WHEN i % 7 = 0 THEN NULL ELSE 'd' || i END AS note,
               DATE '2024-06-01' + (i % 30)::INTEGER AS day, [i, i * 2] AS pair
        FROM range({n}) t(i)
    ) TO '{out}/duckdb_zstd.parquet' (FORMAT PARQUET, COMPRESSION zstd, ROW_GROUP_SIZE 200)
    """
)
print("ok")
