# The healer and the chaos injector as Lambda functions (zips built from this repository).

resource "aws_cloudwatch_log_group" "function" {
  for_each          = toset(["healer", "chaos"])
  name              = "/aws/lambda/${var.name}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.lake.arn
  tags              = local.tags
}

resource "aws_lambda_function" "healer" {
  #checkov:skip=CKV_AWS_272:the zip is built from this repository by CI; AWS Signer profiles are the account's choice
  #checkov:skip=CKV_AWS_117:it reaches S3, Glue, SQS and SNS only; running it in a VPC needs endpoints this module does not own
  function_name    = "${var.name}-healer"
  description      = "lakehealer: detects and repairs the object behind each S3 event"
  role             = aws_iam_role.healer.arn
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.lambda_architecture]
  filename         = var.healer_zip
  source_code_hash = filebase64sha256(var.healer_zip)
  kms_key_arn      = aws_kms_key.lake.arn
  timeout          = 60
  memory_size      = 1024
  # At most a few concurrent healers: repairs of one table must not race each other.
  reserved_concurrent_executions = 2
  tracing_config {
    mode = "Active"
  }
  dead_letter_config {
    target_arn = aws_sqs_queue.healer_dlq.arn
  }
  environment {
    variables = {
      LAKEHEALER_LAKE       = "s3://${aws_s3_bucket.zone["curated"].id}"
      LAKEHEALER_CATALOG    = "glue:${aws_glue_catalog_database.lake.name}"
      LAKEHEALER_QUARANTINE = "s3://${aws_s3_bucket.zone["quarantine"].id}"
      LAKEHEALER_SNS_TOPIC  = aws_sns_topic.incidents.arn
      # Game-day lakes the chaos function seeds under chaos/<run>/<scenario>/ in the same bucket.
      LAKEHEALER_GAMEDAY_PREFIX    = local.gameday_prefix
      LAKEHEALER_METRICS_NAMESPACE = "Lakehealer"
      LAKEHEALER_LF_POLICY         = jsonencode(local.healer_lf_policy)
    }
  }
  depends_on = [aws_cloudwatch_log_group.function]
  tags       = local.tags
}

resource "aws_lambda_event_source_mapping" "healer_events" {
  event_source_arn                   = aws_sqs_queue.healer_events.arn
  function_name                      = aws_lambda_function.healer.arn
  batch_size                         = 10
  maximum_batching_window_in_seconds = 1
  function_response_types            = ["ReportBatchItemFailures"]
}

resource "aws_lambda_function" "chaos" {
  #checkov:skip=CKV_AWS_272:the zip is built from this repository by CI; AWS Signer profiles are the account's choice
  #checkov:skip=CKV_AWS_117:it reaches S3, Glue, SQS and SNS only; running it in a VPC needs endpoints this module does not own
  function_name                  = "${var.name}-chaos"
  description                    = "lakechaos: injects game days behind the aws target's guard, and scores them"
  role                           = aws_iam_role.chaos.arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.lambda_architecture]
  filename                       = var.chaos_zip
  source_code_hash               = filebase64sha256(var.chaos_zip)
  kms_key_arn                    = aws_kms_key.lake.arn
  timeout                        = 300
  memory_size                    = 1024
  reserved_concurrent_executions = 1
  tracing_config {
    mode = "Active"
  }
  dead_letter_config {
    target_arn = aws_sqs_queue.healer_dlq.arn
  }
  environment {
    variables = {
      LAKECHAOS_ALLOW_ACCOUNTS = local.account
      LAKECHAOS_BUCKET         = aws_s3_bucket.zone["curated"].id
      LAKECHAOS_PREFIX         = local.gameday_prefix
      # The scoring step (gameday.tf).
      LAKECHAOS_INCIDENT_LEDGER   = aws_sqs_queue.gameday_incidents.id
      LAKECHAOS_QUARANTINE        = local.gameday_quarantine
      LAKECHAOS_METRICS_NAMESPACE = local.gameday_namespace
      LAKECHAOS_RETENTION_DAYS    = tostring(var.gameday_retention_days)
    }
  }
  depends_on = [aws_cloudwatch_log_group.function]
  tags       = local.tags
}
