"""Spark's reading of a Parquet table, as a reader other than lakechaos: local mode, loopback
only. Spark checks the `.crc` files it wrote beside each data file, so a file that is not
byte-for-byte what Spark wrote fails the read.

usage: spark_digest.py TABLE_DIR      prints {"rows": N, "digest": SUM_OF_ROW_HASHES}
"""
import json
import sys

from pyspark.sql import SparkSession

spark = (
    SparkSession.builder.master("local[1]")
    .appName("lakechaos-reader")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
row = spark.read.parquet(sys.argv[1]).selectExpr("count(*) AS rows", "sum(cast(hash(*) AS bigint)) AS digest").first()
spark.stop()
print(json.dumps({"rows": row["rows"], "digest": str(row["digest"])}))
