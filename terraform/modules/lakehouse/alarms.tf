# Alarms on the healer: unrepairable incidents, failed passes, and a healer that errors or
# lags behind its queue. All notify the incidents topic.

locals {
  alarm_actions = concat([aws_sns_topic.incidents.arn], var.alarm_actions)
}

resource "aws_cloudwatch_metric_alarm" "unrepairable" {
  alarm_name          = "${var.name}-healer-unrepairable"
  alarm_description   = "The healer reported damage it could not repair from any source."
  namespace           = "Lakehealer"
  metric_name         = "Unrepairable"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.unrepairable_alarm_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "pass_failures" {
  alarm_name          = "${var.name}-healer-pass-failures"
  alarm_description   = "Healer passes failed (lake, catalog or permissions unreachable)."
  namespace           = "Lakehealer"
  metric_name         = "PassFailures"
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 3
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "healer_errors" {
  alarm_name          = "${var.name}-healer-errors"
  alarm_description   = "The healer function failed invocations."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.healer.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "queue_age" {
  alarm_name          = "${var.name}-healer-stalled"
  alarm_description   = "Lake events wait in the healer's queue for over 2 minutes: the healer is stalled."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.healer_events.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  threshold           = 120
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  tags                = local.tags
}
