output "buckets" {
  description = "Bucket names by zone (raw, curated, quarantine)."
  value       = { for zone, b in aws_s3_bucket.zone : zone => b.id }
}

output "glue_database" {
  description = "The Glue database of the curated tables."
  value       = aws_glue_catalog_database.lake.name
}

output "healer_queue_url" {
  description = "The SQS queue receiving the lake's object events (for `lakehealer watch --events-queue`)."
  value       = aws_sqs_queue.healer_events.id
}

output "incidents_topic_arn" {
  description = "The SNS topic of incidents and repairs (for `--sns-topic`)."
  value       = aws_sns_topic.incidents.arn
}

output "healer_role_arn" {
  description = "The healer's role."
  value       = aws_iam_role.healer.arn
}

output "functions" {
  description = "Lambda function names: healer and chaos."
  value       = { healer = aws_lambda_function.healer.function_name, chaos = aws_lambda_function.chaos.function_name }
}

output "kms_key_arn" {
  description = "The key encrypting the buckets, the queue and the topic."
  value       = aws_kms_key.lake.arn
}

output "gameday_incidents_queue_url" {
  description = "The queue keeping the healer's incidents about game-day lakes until the scoring pass collects them."
  value       = aws_sqs_queue.gameday_incidents.id
}
