"""Writes a Hive-partitioned Parquet table with Spark (local mode, loopback only).

usage: write_spark.py LAKE_DIR

Creates LAKE_DIR/sp_orders/dt=.../part-*.snappy.parquet with Spark's usual companions
(_SUCCESS, .crc checksum files) and Spark's defaults: INT96 timestamps, page CRCs.
"""
import sys

from pyspark.sql import SparkSession

spark = (
    SparkSession.builder.master("local[1]")
    .appName("lakechaos-writer")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.sql.shuffle.partitions", "1")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
df = spark.range(0, 3000).selectExpr(
    "id",
    "cast(id * 0.5 as double) as price",
    "case when id % 9 = 0 then null else concat('s', id) end as note",
    "case when id < 1500 then '2024-07-01' else '2024-07-02' end as dt",
    "timestamp_seconds(1719792000 + id) as ts",
)
df.repartition(2).write.partitionBy("dt").mode("overwrite").parquet(sys.argv[1] + "/sp_orders")
spark.stop()
print("ok")
