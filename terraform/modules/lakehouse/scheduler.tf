# Game days: the chaos function runs the named scenarios on a schedule (off until enabled).

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
    input    = jsonencode({ gameday = true, scenarios = var.gameday_scenarios })
    retry_policy {
      maximum_retry_attempts = 0
    }
  }
}
