# The game-day loop, closed: the schedule in scheduler.tf injects; this one scores. Every
# `score_schedule` the chaos function collects the healer's incidents for game-day lakes from
# the ledger queue, scores every run past its deadline (verification against golden, TTD, TTR,
# metrics in the Lakechaos namespace, reports under chaos/<run>/_reports/), reverts what is
# still broken from its journal and deletes lakes older than gameday_retention_days.

locals {
  gameday_prefix     = "chaos"
  gameday_lakes_url  = "s3://${aws_s3_bucket.zone["curated"].id}/${local.gameday_prefix}/"
  gameday_namespace  = "Lakechaos"
  gameday_quarantine = "s3://${aws_s3_bucket.zone["quarantine"].id}"
}

# The healer's incidents about game-day lakes, kept until a scoring pass moves them into the
# lake they name (the subscription's filter leaves the standing lake's incidents out).
resource "aws_sqs_queue" "gameday_incidents" {
  name                      = "${var.name}-gameday-incidents"
  kms_master_key_id         = aws_kms_key.lake.arn
  message_retention_seconds = 1209600
  tags                      = local.tags
}

resource "aws_sqs_queue_policy" "gameday_incidents" {
  queue_url = aws_sqs_queue.gameday_incidents.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "IncidentsTopic"
      Effect    = "Allow"
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.gameday_incidents.arn
      Principal = { Service = "sns.amazonaws.com" }
      Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.incidents.arn } }
    }]
  })
}

resource "aws_sns_topic_subscription" "gameday_incidents" {
  topic_arn            = aws_sns_topic.incidents.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.gameday_incidents.arn
  raw_message_delivery = true
  # The healer function names each event's lake in a `lake` message attribute.
  filter_policy = jsonencode({ lake = [{ prefix = local.gameday_lakes_url }] })
}

resource "aws_scheduler_schedule" "gameday_score" {
  name                = "${var.name}-gameday-score"
  description         = "lakechaos: score game days past their deadline, revert, report, expire"
  schedule_expression = var.score_schedule
  state               = var.gameday_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn         = aws_kms_key.lake.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.chaos.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ score = {} })
    retry_policy {
      # A failed pass is simply done again by the next one.
      maximum_retry_attempts = 0
    }
  }
}
