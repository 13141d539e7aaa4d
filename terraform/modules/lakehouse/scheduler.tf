# Game days: the chaos function runs the named scenarios on a schedule (off until enabled); the
# healer reconciles on its own schedule.

resource "aws_scheduler_schedule" "gameday" {
  name                = "${var.name}-gameday"
  description         = "lakechaos game day against this stack"
  schedule_expression = var.gameday_schedule
  state               = var.gameday_enabled ? "ENABLED" : "DISABLED"
  kms_key_arn         = aws_kms_key.lake.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.chaos.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ scenarios = var.gameday_scenarios })
    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}

# The healer's reconcile pass: what raises no S3 event (a partition that never arrived, catalog
# drift, a revoked Lake Formation grant) is found on this schedule.
resource "aws_scheduler_schedule" "reconcile" {
  name                = "${var.name}-reconcile"
  description         = "lakehealer reconcile pass over the whole lake and its grants"
  schedule_expression = var.reconcile_schedule
  state               = "ENABLED"
  kms_key_arn         = aws_kms_key.lake.arn

  flexible_time_window {
    mode = "OFF"
  }

  target {
    arn      = aws_lambda_function.healer.arn
    role_arn = aws_iam_role.scheduler.arn
    input    = jsonencode({ reconcile = true })
    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}
