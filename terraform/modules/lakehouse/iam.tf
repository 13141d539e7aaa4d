# Least privilege: the healer may touch only the lake's buckets, its Glue database, its queue and
# topic; the chaos injector only the `chaos/` prefix of the curated bucket (and, to score,
# reading the same prefix of the quarantine bucket, its incident ledger and its metrics). Policies are plain
# JSON (jsonencode) so `terraform test` can read them back and check these properties.

locals {
  lake_bucket_arns = values(local.bucket_arn)
  lake_object_arns = [for arn in values(local.bucket_arn) : "${arn}/*"]
  glue_catalog_arn = "arn:${local.partition}:glue:${local.region}:${local.account}:catalog"
  glue_db_arn      = "arn:${local.partition}:glue:${local.region}:${local.account}:database/${aws_glue_catalog_database.lake.name}"
  glue_tables_arn  = "arn:${local.partition}:glue:${local.region}:${local.account}:table/${aws_glue_catalog_database.lake.name}/*"
  curated_arn      = local.bucket_arn["curated"]

  assume_role = { for k, service in {
    lambda        = "lambda.amazonaws.com"
    glue          = "glue.amazonaws.com"
    lakeformation = "lakeformation.amazonaws.com"
    scheduler     = "scheduler.amazonaws.com"
    } : k => jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect    = "Allow"
        Action    = "sts:AssumeRole"
        Principal = { Service = service }
        Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
      }]
  }) }

  healer_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ListLakeBuckets"
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning", "s3:GetBucketLocation"]
        Resource = local.lake_bucket_arns
      },
      {
        Sid      = "ReadWriteLakeObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
        Resource = local.lake_object_arns
      },
      {
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
        Resource = aws_kms_key.lake.arn
      },
      {
        Sid    = "OwnGlueDatabase"
        Effect = "Allow"
        Action = [
          "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:UpdateTable", "glue:CreateTable",
          "glue:GetPartition", "glue:GetPartitions", "glue:CreatePartition", "glue:BatchCreatePartition",
          "glue:UpdatePartition",
        ]
        Resource = [local.glue_catalog_arn, local.glue_db_arn, local.glue_tables_arn]
      },
      {
        # The action supports no resource-level scoping.
        Sid      = "LakeFormationDataAccess"
        Effect   = "Allow"
        Action   = ["lakeformation:GetDataAccess"]
        Resource = "*"
      },
      {
        # Keeping the declared grants (LAKEHEALER_LF_POLICY): reading them, and granting back a
        # revoked one. Lake Formation scopes these by its own permissions, not IAM resources:
        # granting succeeds only where the role is a data lake administrator or holds the grant
        # option (see the README).
        Sid      = "KeepDeclaredGrants"
        Effect   = "Allow"
        Action   = ["lakeformation:ListPermissions", "lakeformation:GrantPermissions"]
        Resource = "*"
      },
      {
        Sid      = "OwnQueue"
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"]
        Resource = aws_sqs_queue.healer_events.arn
      },
      {
        Sid      = "DeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = aws_sqs_queue.healer_dlq.arn
      },
      {
        Sid      = "IncidentsTopic"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = aws_sns_topic.incidents.arn
      },
      {
        # PutMetricData has no resources; it is scoped to the healer's namespace instead.
        Sid       = "OwnMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = "*"
        Condition = { StringEquals = { "cloudwatch:namespace" = "Lakehealer" } }
      },
      {
        Sid      = "OwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.function["healer"].arn}:*"
      },
      {
        # X-Ray has no resource-level permissions.
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      },
    ]
  }

  chaos_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "ListChaosPrefix"
        Effect    = "Allow"
        Action    = ["s3:ListBucket", "s3:ListBucketVersions"]
        Resource  = local.curated_arn
        Condition = { StringLike = { "s3:prefix" = ["chaos/*", "chaos"] } }
      },
      {
        # The guard checks the bucket's versioning before writing (no prefix applies to it).
        Sid      = "BucketVersioning"
        Effect   = "Allow"
        Action   = ["s3:GetBucketVersioning"]
        Resource = local.curated_arn
      },
      {
        Sid      = "ChaosPrefixObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject"]
        Resource = "${local.curated_arn}/chaos/*"
      },
      {
        # Scoring looks for the damaged objects the healer quarantined; game-day lakes are
        # quarantined under the same prefix in the quarantine bucket. Read only.
        Sid       = "ListQuarantinedGameDays"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = local.bucket_arn["quarantine"]
        Condition = { StringLike = { "s3:prefix" = ["${local.gameday_prefix}/*", local.gameday_prefix] } }
      },
      {
        Sid      = "ReadQuarantinedGameDays"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = "${local.bucket_arn["quarantine"]}/${local.gameday_prefix}/*"
      },
      {
        Sid      = "IncidentLedger"
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
        Resource = aws_sqs_queue.gameday_incidents.arn
      },
      {
        # PutMetricData has no resources; it is scoped to the game days' namespace instead.
        Sid       = "GameDayMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = "*"
        Condition = { StringEquals = { "cloudwatch:namespace" = local.gameday_namespace } }
      },
      {
        Sid      = "LakeKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = aws_kms_key.lake.arn
      },
      {
        # The guard checks the account before anything is written.
        Sid      = "WhoAmI"
        Effect   = "Allow"
        Action   = ["sts:GetCallerIdentity"]
        Resource = "*"
      },
      {
        Sid      = "DeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = aws_sqs_queue.healer_dlq.arn
      },
      {
        Sid      = "OwnLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "${aws_cloudwatch_log_group.function["chaos"].arn}:*"
      },
      {
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
        Resource = "*"
      },
    ]
  }
}

resource "aws_iam_role" "healer" {
  name               = "${var.name}-healer"
  assume_role_policy = local.assume_role["lambda"]
  tags               = local.tags
}

resource "aws_iam_role_policy" "healer" {
  name   = "lake-only"
  role   = aws_iam_role.healer.id
  policy = jsonencode(local.healer_policy)
}

resource "aws_iam_role" "chaos" {
  name               = "${var.name}-chaos"
  assume_role_policy = local.assume_role["lambda"]
  tags               = local.tags
}

resource "aws_iam_role_policy" "chaos" {
  name   = "chaos-prefix-only"
  role   = aws_iam_role.chaos.id
  policy = jsonencode(local.chaos_policy)
}

resource "aws_iam_role" "crawler" {
  name               = "${var.name}-crawler"
  assume_role_policy = local.assume_role["glue"]
  tags               = local.tags
}

# The crawler's own grants instead of the broad AWSGlueServiceRole managed policy: it reads the
# curated bucket and writes tables and partitions of the lake database only.
resource "aws_iam_role_policy" "crawler" {
  name = "crawl-curated"
  role = aws_iam_role.crawler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["s3:ListBucket", "s3:GetObject"], Resource = [local.curated_arn, "${local.curated_arn}/*"] },
      { Effect = "Allow", Action = ["kms:Decrypt"], Resource = aws_kms_key.lake.arn },
      {
        Effect = "Allow"
        Action = [
          "glue:GetDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable",
          "glue:GetPartition", "glue:GetPartitions", "glue:BatchCreatePartition", "glue:BatchGetPartition",
          "glue:UpdatePartition",
        ]
        Resource = [local.glue_catalog_arn, local.glue_db_arn, local.glue_tables_arn]
      },
      {
        Effect   = "Allow"
        Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws-glue/crawlers:*"
      },
    ]
  })
}

resource "aws_iam_role" "lakeformation" {
  name               = "${var.name}-lakeformation"
  assume_role_policy = local.assume_role["lakeformation"]
  tags               = local.tags
}

resource "aws_iam_role_policy" "lakeformation" {
  name = "curated-data-access"
  role = aws_iam_role.lakeformation.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
        Resource = [local.curated_arn, "${local.curated_arn}/*"]
      },
      { Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = aws_kms_key.lake.arn },
    ]
  })
}

resource "aws_iam_role" "scheduler" {
  name               = "${var.name}-scheduler"
  assume_role_policy = local.assume_role["scheduler"]
  tags               = local.tags
}

resource "aws_iam_role_policy" "scheduler" {
  name = "invoke-functions"
  role = aws_iam_role.scheduler.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["lambda:InvokeFunction"]
      Resource = [aws_lambda_function.chaos.arn, aws_lambda_function.healer.arn]
    }]
  })
}
