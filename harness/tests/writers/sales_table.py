"""A table of someone else's making, for existing-table mode's tests, and a reader other than
lakechaos to check it afterwards.

usage:
  sales_table.py write LAKE_DIR        writes LAKE_DIR/sales with pyarrow.dataset, Hive-partitioned
                                       by region and dt (2 regions x 12 days x 4 files x 250 rows)
  sales_table.py digest LOCATION [ENDPOINT]
                                       reads the table with pyarrow (a directory, or s3://BUCKET/KEY
                                       through ENDPOINT) and prints {"rows": N, "digest": HEX,
                                       "columns": [...]}: a hash of every row, sorted, partition
                                       columns included
"""
import datetime
import decimal
import hashlib
import json
import os
import sys

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

REGIONS = ["eu", "us"]
DAYS = 12
FILES_PER_DAY = 4
ROWS_PER_FILE = 250


def write(root):
    rows = len(REGIONS) * DAYS * FILES_PER_DAY * ROWS_PER_FILE
    start = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)
    per_partition = FILES_PER_DAY * ROWS_PER_FILE
    region, dt, sold_at = [], [], []
    for i in range(rows):
        p = i // per_partition
        region.append(REGIONS[p % len(REGIONS)])
        day = start + datetime.timedelta(days=p // len(REGIONS))
        dt.append(day.strftime("%Y-%m-%d"))
        sold_at.append(day + datetime.timedelta(seconds=i % 86400))
    table = pa.table(
        {
            "sale_id": pa.array(range(rows), pa.int64()),
            "customer": pa.array([f"c{i % 997}" for i in range(rows)], pa.string()),
            "amount": pa.array([decimal.Decimal(i % 5000) / 100 for i in range(rows)], pa.decimal128(12, 2)),
            "discount": pa.array([None if i % 9 == 0 else (i % 30) / 100 for i in range(rows)], pa.float64()),
            "sold_at": pa.array(sold_at, pa.timestamp("us", tz="UTC")),
            "returned": pa.array([i % 17 == 0 for i in range(rows)], pa.bool_()),
            "region": pa.array(region, pa.string()),
            "dt": pa.array(dt, pa.string()),
        }
    )
    ds.write_dataset(
        table,
        os.path.join(root, "sales"),
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("region", pa.string()), ("dt", pa.string())]), flavor="hive"),
        max_rows_per_file=ROWS_PER_FILE,
        max_rows_per_group=ROWS_PER_FILE // 2,
        basename_template="part-{i}.parquet",
    )
    print(json.dumps({"rows": rows}))


def digest(location, endpoint=None):
    if location.startswith("s3://"):
        fs = pafs.S3FileSystem(
            endpoint_override=endpoint, scheme="http", access_key="test", secret_key="test", region="us-east-1"
        )
        path = location[len("s3://"):]
    else:
        fs, path = pafs.LocalFileSystem(), location
    partitioning = ds.partitioning(pa.schema([("region", pa.string()), ("dt", pa.string())]), flavor="hive")
    table = ds.dataset(path, filesystem=fs, format="parquet", partitioning=partitioning).to_table()
    names = sorted(table.column_names)
    rows = sorted(json.dumps([str(r[n]) for n in names]) for r in table.to_pylist())
    h = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    print(json.dumps({"rows": table.num_rows, "digest": h, "columns": names}))


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        digest(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
