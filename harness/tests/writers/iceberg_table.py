"""Iceberg tables written and read by pyiceberg (not by lakechaos), with its SQL catalog on
SQLite: a foreign writer for the healer, and a foreign reader for healed tables.

usage:
  iceberg_table.py write DIR
      creates DIR/catalog.db and table shop.sales under DIR/lake (identity-partitioned by day),
      with three appends (three snapshots of 500 rows each); prints {"rows": N, ...}
  iceberg_table.py write-glue ENDPOINT BUCKET
      the same table in pyiceberg's Glue catalog (database shop) at s3://BUCKET/warehouse/sales,
      Glue and S3 served by an emulator at ENDPOINT (moto)
  iceberg_table.py dump-glue ENDPOINT TABLE OUT.parquet
      as dump, from the Glue catalog at ENDPOINT
  iceberg_table.py dump DIR TABLE OUT.parquet
      reads TABLE's current snapshot with pyiceberg and writes its rows to OUT.parquet; prints
      {"rows": N, "digest": HEX} (a hash of every row, sorted)
"""
import datetime
import hashlib
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import IdentityTransform
from pyiceberg.types import DateType, DoubleType, LongType, NestedField, StringType

ROWS_PER_APPEND = 500


def catalog(d):
    d = os.path.abspath(d)
    return SqlCatalog("default", uri=f"sqlite:///{d}/catalog.db", warehouse=f"file://{d}/lake")


def glue_catalog(endpoint, bucket=None):
    from pyiceberg.catalog.glue import GlueCatalog

    props = {
        # fsspec/s3fs rather than pyarrow's S3 client, whose multipart uploads moto's answers
        # confuse.
        "py-io-impl": "pyiceberg.io.fsspec.FsspecFileIO",
        "glue.endpoint": endpoint,
        "glue.region": "us-east-1",
        "glue.access-key-id": "testing",
        "glue.secret-access-key": "testing",
        "s3.endpoint": endpoint,
        "s3.region": "us-east-1",
        "s3.access-key-id": "testing",
        "s3.secret-access-key": "testing",
    }
    if bucket:
        props["warehouse"] = f"s3://{bucket}/warehouse"
    return GlueCatalog("glue", **props)


def write(d):
    os.makedirs(os.path.join(d, "lake"), exist_ok=True)
    fill(catalog(d), None)


def fill(cat, location):
    cat.create_namespace("shop")
    schema = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "day", DateType(), required=True),
        NestedField(3, "amount", DoubleType(), required=True),
        NestedField(4, "note", StringType(), required=False),
    )
    spec = PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=IdentityTransform(), name="day"))
    if location:
        table = cat.create_table("shop.sales", schema=schema, partition_spec=spec, location=location)
    else:
        table = cat.create_table("shop.sales", schema=schema, partition_spec=spec)
    arrow_schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("day", pa.date32(), nullable=False),
            pa.field("amount", pa.float64(), nullable=False),
            pa.field("note", pa.string(), nullable=True),
        ]
    )
    n = ROWS_PER_APPEND
    for k in range(3):
        day = datetime.date(2024, 5, 1 + k)
        batch = pa.table(
            {
                "id": pa.array(range(k * n, (k + 1) * n), pa.int64()),
                "day": pa.array([day] * n, pa.date32()),
                "amount": pa.array([i * 0.5 for i in range(n)], pa.float64()),
                "note": pa.array([None if i % 5 == 0 else f"n{i}" for i in range(n)], pa.string()),
            },
            schema=arrow_schema,
        )
        table.append(batch)
    table = cat.load_table("shop.sales")
    print(json.dumps({"rows": 3 * n, "snapshots": len(table.snapshots()), "metadata_location": table.metadata_location}))


def dump(d, name, out):
    dump_from(catalog(d), name, out)


def dump_from(cat, name, out):
    table = cat.load_table(name)
    rows = table.scan().to_arrow()
    pq.write_table(rows, out)
    digest = hashlib.sha256()
    for row in sorted(repr(tuple(r.values())) for r in rows.to_pylist()):
        digest.update(row.encode())
    print(json.dumps({"rows": rows.num_rows, "digest": digest.hexdigest()}))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "write":
        write(sys.argv[2])
    elif cmd == "write-glue":
        fill(glue_catalog(sys.argv[2], sys.argv[3]), f"s3://{sys.argv[3]}/warehouse/sales")
    elif cmd == "dump":
        dump(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "dump-glue":
        dump_from(glue_catalog(sys.argv[2]), sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown command {cmd!r}")
