# The Glue catalog of the curated zone, a crawler for schema discovery, and Lake Formation: the
# curated bucket is registered and the healer is granted what it repairs with.

resource "aws_glue_catalog_database" "lake" {
  name        = replace("${var.name}_lake", "-", "_")
  description = "${var.name}: curated tables the healer watches"
}

resource "aws_glue_catalog_table" "fixture" {
  for_each      = var.tables
  database_name = aws_glue_catalog_database.lake.name
  name          = each.key
  table_type    = "EXTERNAL_TABLE"
  parameters = {
    classification = "parquet"
    EXTERNAL       = "TRUE"
  }

  partition_keys {
    name = "dt"
    type = "string"
  }

  storage_descriptor {
    location      = "s3://${aws_s3_bucket.zone["curated"].id}/${each.value}/"
    input_format  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
    ser_de_info {
      serialization_library = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    }
    # The contract of the `orders` fixture; the healer rewrites drifted declarations to it.
    columns {
      name = "order_id"
      type = "bigint"
    }
    columns {
      name = "customer_id"
      type = "bigint"
    }
    columns {
      name = "order_ts"
      type = "timestamp"
    }
    columns {
      name = "amount"
      type = "double"
    }
    columns {
      name = "status"
      type = "string"
    }
    columns {
      name = "coupon_code"
      type = "string"
    }
  }
}

# Crawler logs encrypted with the lake's key.
resource "aws_glue_security_configuration" "lake" {
  name = "${var.name}-lake"
  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = "SSE-KMS"
      kms_key_arn                = aws_kms_key.lake.arn
    }
    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = "CSE-KMS"
      kms_key_arn                   = aws_kms_key.lake.arn
    }
    s3_encryption {
      s3_encryption_mode = "SSE-KMS"
      kms_key_arn        = aws_kms_key.lake.arn
    }
  }
}

resource "aws_glue_crawler" "curated" {
  name                   = "${var.name}-curated"
  security_configuration = aws_glue_security_configuration.lake.name
  database_name          = aws_glue_catalog_database.lake.name
  role                   = aws_iam_role.crawler.arn
  description            = "Schema discovery over the curated zone; schema changes are logged, not applied (the healer owns the declared contract)."

  dynamic "s3_target" {
    for_each = var.tables
    content {
      path = "s3://${aws_s3_bucket.zone["curated"].id}/${s3_target.value}/"
    }
  }

  schema_change_policy {
    update_behavior = "LOG"
    delete_behavior = "LOG"
  }
  recrawl_policy {
    recrawl_behavior = "CRAWL_EVERYTHING"
  }
  tags = local.tags
}

resource "aws_lakeformation_resource" "curated" {
  arn      = aws_s3_bucket.zone["curated"].arn
  role_arn = aws_iam_role.lakeformation.arn
}

# The grants the healer relies on (it reads and re-declares tables, and registers partitions),
# declared once: Terraform creates them below, and the healer function gets the same list as its
# policy (LAKEHEALER_LF_POLICY) and grants back whatever is revoked.
locals {
  healer_database_permissions = ["DESCRIBE", "ALTER", "CREATE_TABLE"]
  healer_table_permissions    = ["SELECT", "DESCRIBE", "ALTER", "INSERT", "DELETE"]
  healer_lf_policy = {
    grants = concat(
      [{
        principal   = aws_iam_role.healer.arn
        resource    = { database = { name = aws_glue_catalog_database.lake.name } }
        permissions = local.healer_database_permissions
      }],
      [for t in sort(keys(var.tables)) : {
        principal   = aws_iam_role.healer.arn
        resource    = { table = { database = aws_glue_catalog_database.lake.name, name = t } }
        permissions = local.healer_table_permissions
      }],
      [{
        principal   = aws_iam_role.healer.arn
        resource    = { data_location = { arn = aws_lakeformation_resource.curated.arn } }
        permissions = ["DATA_LOCATION_ACCESS"]
      }],
    )
  }
}

resource "aws_lakeformation_permissions" "healer_database" {
  principal   = aws_iam_role.healer.arn
  permissions = local.healer_database_permissions
  database {
    name = aws_glue_catalog_database.lake.name
  }
}

# One grant per table (not a wildcard), so each can be checked and restored on its own.
resource "aws_lakeformation_permissions" "healer_tables" {
  for_each    = var.tables
  principal   = aws_iam_role.healer.arn
  permissions = local.healer_table_permissions
  table {
    database_name = aws_glue_catalog_database.lake.name
    name          = aws_glue_catalog_table.fixture[each.key].name
  }
}

resource "aws_lakeformation_permissions" "healer_location" {
  principal   = aws_iam_role.healer.arn
  permissions = ["DATA_LOCATION_ACCESS"]
  data_location {
    arn = aws_lakeformation_resource.curated.arn
  }
}
