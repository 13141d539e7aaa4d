# The lake's buckets: raw (landing, the source of truth the healer restores from), curated (the
# served tables) and quarantine (what the healer moved aside; never deleted by it, expired here).

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  zones     = toset(["raw", "curated", "quarantine"])
  tags      = merge({ "lakechaos:stack" = var.name }, var.tags)
  # Names and ARNs are derived here rather than read back from the buckets, so policies are
  # known at plan time (and checkable by `terraform test` with a mocked provider).
  bucket_name = { for z in local.zones : z => "${var.name}-${z}-${local.account}" }
  bucket_arn  = { for z, n in local.bucket_name : z => "arn:${local.partition}:s3:::${n}" }
}

resource "aws_kms_key" "lake" {
  description             = "${var.name}: lake buckets, incidents topic and healer queue"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = local.kms_policy
  tags                    = local.tags
}

# The account administers the key; S3 event delivery (EventBridge), SNS and CloudWatch alarms
# may use it to encrypt messages.
locals {
  kms_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministers"
        Effect    = "Allow"
        Action    = "kms:*"
        Resource  = "*"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
      },
      {
        Sid       = "ServicesEncryptMessages"
        Effect    = "Allow"
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = "*"
        Principal = { Service = ["events.amazonaws.com", "sns.amazonaws.com", "cloudwatch.amazonaws.com"] }
      },
      {
        Sid       = "LogsEncryptFunctionLogs"
        Effect    = "Allow"
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
      },
    ]
  })
}

resource "aws_kms_alias" "lake" {
  name          = "alias/${var.name}-lake"
  target_key_id = aws_kms_key.lake.key_id
}

resource "aws_s3_bucket" "zone" {
  # checkov cannot follow for_each to the per-bucket resources below; `terraform test` asserts
  # each of these for every bucket instead:
  #checkov:skip=CKV_AWS_21:versioning is aws_s3_bucket_versioning.zone (asserted by terraform test)
  #checkov:skip=CKV2_AWS_6:public access block is aws_s3_bucket_public_access_block.zone (asserted by terraform test)
  #checkov:skip=CKV_AWS_145:SSE-KMS is aws_s3_bucket_server_side_encryption_configuration.zone (asserted by terraform test)
  #checkov:skip=CKV2_AWS_61:lifecycle is aws_s3_bucket_lifecycle_configuration.zone (asserted by terraform test)
  #checkov:skip=CKV2_AWS_62:event notifications are aws_s3_bucket_notification.zone (asserted by terraform test)
  # Choices:
  #checkov:skip=CKV_AWS_18:server access logs go to the account's central log bucket, which this module does not own
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery decision of the account; the healer restores from in-region versions and the raw zone
  for_each = local.zones
  bucket   = local.bucket_name[each.key]
  tags     = merge(local.tags, { "lakechaos:zone" = each.key })
}

resource "aws_s3_bucket_versioning" "zone" {
  for_each = aws_s3_bucket.zone
  bucket   = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "zone" {
  for_each = aws_s3_bucket.zone
  bucket   = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.lake.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "zone" {
  for_each                = aws_s3_bucket.zone
  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Every object change in the lake is an event (EventBridge), routed to the healer's queue.
resource "aws_s3_bucket_notification" "zone" {
  for_each    = aws_s3_bucket.zone
  bucket      = each.value.id
  eventbridge = true
}

resource "aws_s3_bucket_lifecycle_configuration" "zone" {
  #checkov:skip=CKV_AWS_300:both rules abort incomplete multipart uploads after 7 days; checkov does not read dynamic blocks
  for_each   = aws_s3_bucket.zone
  bucket     = each.value.id
  depends_on = [aws_s3_bucket_versioning.zone]

  dynamic "rule" {
    for_each = each.key == "quarantine" ? [1] : []
    content {
      id     = "expire-quarantine"
      status = "Enabled"
      filter {}
      expiration {
        days = var.quarantine_expiration_days
      }
      noncurrent_version_expiration {
        noncurrent_days = var.quarantine_expiration_days
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }
    }
  }

  dynamic "rule" {
    for_each = each.key == "quarantine" ? [] : [1]
    content {
      id     = "keep-versions-for-restores"
      status = "Enabled"
      filter {}
      noncurrent_version_expiration {
        noncurrent_days = var.raw_noncurrent_version_days
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }
    }
  }
}
