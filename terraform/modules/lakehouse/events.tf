# S3 object created/deleted in the lake → EventBridge → the healer's queue; the healer's
# incidents and repairs → an SNS topic.

resource "aws_sqs_queue" "healer_dlq" {
  name                      = "${var.name}-healer-dlq"
  kms_master_key_id         = aws_kms_key.lake.arn
  message_retention_seconds = 1209600
  tags                      = local.tags
}

resource "aws_sqs_queue" "healer_events" {
  name                       = "${var.name}-healer-events"
  kms_master_key_id          = aws_kms_key.lake.arn
  visibility_timeout_seconds = 360 # six times the healer function's timeout
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.healer_dlq.arn
    maxReceiveCount     = 5
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_rule" "lake_objects" {
  name        = "${var.name}-lake-objects"
  description = "Objects created or deleted in the raw and curated buckets."
  event_pattern = jsonencode({
    source      = ["aws.s3"]
    detail-type = ["Object Created", "Object Deleted"]
    detail = {
      bucket = { name = [local.bucket_name["raw"], local.bucket_name["curated"]] }
    }
  })
  tags = local.tags
}

resource "aws_cloudwatch_event_target" "healer_queue" {
  rule      = aws_cloudwatch_event_rule.lake_objects.name
  target_id = "healer-queue"
  arn       = aws_sqs_queue.healer_events.arn
}

resource "aws_sqs_queue_policy" "healer_events" {
  queue_url = aws_sqs_queue.healer_events.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LakeObjectEvents"
      Effect    = "Allow"
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.healer_events.arn
      Principal = { Service = "events.amazonaws.com" }
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.lake_objects.arn } }
    }]
  })
}

resource "aws_sns_topic" "incidents" {
  name              = "${var.name}-incidents"
  kms_master_key_id = aws_kms_key.lake.arn
  tags              = local.tags
}
