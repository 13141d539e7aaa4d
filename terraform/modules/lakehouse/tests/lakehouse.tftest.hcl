# `terraform test` with a mocked AWS provider: the properties the stack must keep, checked
# without an account. ARN-shaped defaults, because ARN validators reject the random strings a
# bare mock fills computed attributes with.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::mock-bucket" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:mock" }
  }
  mock_resource "aws_sqs_queue" {
    defaults = { arn = "arn:aws:sqs:eu-west-1:123456789012:mock", id = "https://sqs.eu-west-1.amazonaws.com/123456789012/mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:mock" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = { arn = "arn:aws:events:eu-west-1:123456789012:rule/mock" }
  }
  mock_resource "aws_lakeformation_resource" {
    defaults = { arn = "arn:aws:s3:::mock-bucket" }
  }
}

variables {
  name       = "lc-test"
  healer_zip = "tests/placeholder.zip"
  chaos_zip  = "tests/placeholder.zip"
}

run "buckets_are_versioned_encrypted_private_and_quarantine_expires" {
  command = apply

  assert {
    condition     = length(aws_s3_bucket.zone) == 3 && alltrue([for z in ["raw", "curated", "quarantine"] : contains(keys(aws_s3_bucket.zone), z)])
    error_message = "raw, curated and quarantine buckets"
  }
  assert {
    condition     = alltrue([for v in aws_s3_bucket_versioning.zone : v.versioning_configuration[0].status == "Enabled"])
    error_message = "versioning must be on for every lake bucket (the healer restores from versions)"
  }
  assert {
    condition = alltrue([for b in aws_s3_bucket_public_access_block.zone :
    b.block_public_acls && b.block_public_policy && b.ignore_public_acls && b.restrict_public_buckets])
    error_message = "public access must be blocked on every lake bucket"
  }
  assert {
    condition = alltrue([for e in aws_s3_bucket_server_side_encryption_configuration.zone :
    one(one(e.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"])
    error_message = "every bucket is encrypted with the lake's KMS key"
  }
  assert {
    condition     = one([for r in aws_s3_bucket_lifecycle_configuration.zone["quarantine"].rule : r.expiration[0].days]) == 90
    error_message = "quarantine expires after quarantine_expiration_days"
  }
  assert {
    condition     = alltrue([for n in aws_s3_bucket_notification.zone : n.eventbridge])
    error_message = "every bucket sends its object events to EventBridge"
  }
}

run "the_healer_cannot_write_outside_the_lake" {
  command = apply

  assert {
    # Every statement granting an S3 write names only objects of the three lake buckets.
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.healer.policy).Statement : [
        for r in flatten([s.Resource]) : contains([
          "arn:aws:s3:::lc-test-raw-123456789012/*",
          "arn:aws:s3:::lc-test-curated-123456789012/*",
          "arn:aws:s3:::lc-test-quarantine-123456789012/*",
        ], r)
      ] if length([for a in flatten([s.Action]) : a if can(regex("^s3:(Put|Delete)", a))]) > 0
    ]))
    error_message = "the healer's S3 writes must be limited to the lake buckets' objects"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.healer.policy).Statement :
      !contains(flatten([s.Resource]), "*") || alltrue([for a in flatten([s.Action]) : !startswith(a, "s3:") && !startswith(a, "glue:")])
    ])
    error_message = "no S3 or Glue action on Resource *"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.healer.policy).Statement : alltrue([for a in flatten([s.Action]) : !endswith(a, ":*") && a != "*"])])
    error_message = "no wildcard actions"
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.healer.policy).Statement : [
        for r in flatten([s.Resource]) : can(regex(":glue:eu-west-1:123456789012:(catalog|database/lc_test_lake|table/lc_test_lake/)", r))
      ] if length([for a in flatten([s.Action]) : a if startswith(a, "glue:")]) > 0
    ]))
    error_message = "the healer's Glue access is limited to its own database"
  }
}

run "the_chaos_injector_writes_only_under_chaos" {
  command = apply

  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.chaos.policy).Statement : [
        for r in flatten([s.Resource]) : r == "arn:aws:s3:::lc-test-curated-123456789012/chaos/*"
      ] if length([for a in flatten([s.Action]) : a if can(regex("^s3:(Put|Delete)", a))]) > 0
    ]))
    error_message = "the chaos injector may write only under chaos/ in the curated bucket"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.chaos.policy).Statement : s if length([for a in flatten([s.Action]) : a if startswith(a, "glue:")]) > 0]) == 0
    error_message = "the chaos injector's game-day lakes carry their own catalog: it has no Glue rights"
  }
}

run "functions_events_schedule_and_alarms_are_wired" {
  command = apply

  assert {
    condition = alltrue([for f in [aws_lambda_function.healer, aws_lambda_function.chaos] :
    f.runtime == "provided.al2023" && f.handler == "bootstrap"])
    error_message = "both functions are provided.al2023 with a bootstrap handler"
  }
  assert {
    condition     = aws_lambda_function.healer.role == aws_iam_role.healer.arn && aws_lambda_function.chaos.role == aws_iam_role.chaos.arn
    error_message = "each function runs under its own role"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.healer_events.event_source_arn == aws_sqs_queue.healer_events.arn
    error_message = "the healer consumes the lake-events queue"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.lake_objects.event_pattern).source == ["aws.s3"] && length(jsondecode(aws_cloudwatch_event_rule.lake_objects.event_pattern)["detail-type"]) == 2
    error_message = "object created and deleted events from S3"
  }
  assert {
    condition     = aws_scheduler_schedule.gameday.state == "DISABLED"
    error_message = "the game-day schedule is off until enabled"
  }
  assert {
    condition     = alltrue([for a in [aws_cloudwatch_metric_alarm.unrepairable, aws_cloudwatch_metric_alarm.queue_age] : contains(a.alarm_actions, aws_sns_topic.incidents.arn)])
    error_message = "alarms notify the incidents topic"
  }
  assert {
    condition     = length(aws_lakeformation_permissions.healer_tables["orders"].permissions) > 0 && aws_lakeformation_permissions.healer_tables["orders"].principal == aws_iam_role.healer.arn
    error_message = "Lake Formation grants the healer its table permissions"
  }
  assert {
    # The healer keeps exactly the grants Terraform made: database, each table, the location.
    condition = (
      [for g in jsondecode(aws_lambda_function.healer.environment[0].variables["LAKEHEALER_LF_POLICY"]).grants : g.resource] == [
        { database = { name = "lc_test_lake" } },
        { table = { database = "lc_test_lake", name = "orders" } },
        { data_location = { arn = aws_lakeformation_resource.curated.arn } },
      ]
      && alltrue([for g in jsondecode(aws_lambda_function.healer.environment[0].variables["LAKEHEALER_LF_POLICY"]).grants : g.principal == aws_iam_role.healer.arn])
      && toset(jsondecode(aws_lambda_function.healer.environment[0].variables["LAKEHEALER_LF_POLICY"]).grants[0].permissions) == aws_lakeformation_permissions.healer_database.permissions
      && toset(jsondecode(aws_lambda_function.healer.environment[0].variables["LAKEHEALER_LF_POLICY"]).grants[1].permissions) == aws_lakeformation_permissions.healer_tables["orders"].permissions
      && toset(jsondecode(aws_lambda_function.healer.environment[0].variables["LAKEHEALER_LF_POLICY"]).grants[2].permissions) == aws_lakeformation_permissions.healer_location.permissions
    )
    error_message = "the healer's grant policy is the grants Terraform creates"
  }
  assert {
    condition = (aws_lambda_function.healer.environment[0].variables["LAKEHEALER_QUARANTINE"] == "s3://${aws_s3_bucket.zone["quarantine"].id}"
    && aws_lambda_function.healer.environment[0].variables["LAKEHEALER_GAMEDAY_PREFIX"] == aws_lambda_function.chaos.environment[0].variables["LAKECHAOS_PREFIX"])
    error_message = "the healer quarantines into the quarantine bucket and heals the chaos function's game-day lakes"
  }
  assert {
    condition     = aws_scheduler_schedule.reconcile.target[0].arn == aws_lambda_function.healer.arn && jsondecode(aws_scheduler_schedule.reconcile.target[0].input).reconcile
    error_message = "the healer reconciles on a schedule (what raises no event: revoked grants, missing partitions)"
  }
  assert {
    condition     = jsondecode(aws_scheduler_schedule.gameday.target[0].input) == { scenarios = ["null-flood-customer-id"] }
    error_message = "the game day sends the chaos function its scenario names"
  }
  assert {
    condition     = toset(flatten([for s in jsondecode(aws_iam_role_policy.scheduler.policy).Statement : s.Resource])) == toset([aws_lambda_function.chaos.arn, aws_lambda_function.healer.arn])
    error_message = "the scheduler may invoke the two functions and nothing else"
  }
}

run "a_bad_name_is_refused" {
  command = plan
  variables {
    name = "Not_A_Name"
  }
  expect_failures = [var.name]
}

run "the_scoring_step_is_wired_and_confined_to_game_days" {
  command = apply

  assert {
    condition     = aws_scheduler_schedule.gameday_score.target[0].arn == aws_lambda_function.chaos.arn && jsondecode(aws_scheduler_schedule.gameday_score.target[0].input) == { score = {} }
    error_message = "the scoring schedule invokes the chaos function's scoring step"
  }
  assert {
    condition     = aws_scheduler_schedule.gameday_score.state == aws_scheduler_schedule.gameday.state
    error_message = "scoring is on exactly when game days are"
  }
  assert {
    condition     = jsondecode(aws_sns_topic_subscription.gameday_incidents.filter_policy) == { lake = [{ prefix = "s3://${aws_s3_bucket.zone["curated"].id}/chaos/" }] } && aws_sns_topic_subscription.gameday_incidents.raw_message_delivery
    error_message = "the ledger hears only the incidents of game-day lakes, as the healer published them"
  }
  assert {
    condition = (aws_lambda_function.chaos.environment[0].variables["LAKECHAOS_INCIDENT_LEDGER"] == aws_sqs_queue.gameday_incidents.id
      && aws_lambda_function.chaos.environment[0].variables["LAKECHAOS_QUARANTINE"] == aws_lambda_function.healer.environment[0].variables["LAKEHEALER_QUARANTINE"]
    && aws_lambda_function.chaos.environment[0].variables["LAKECHAOS_RETENTION_DAYS"] == "7")
    error_message = "the scoring step reads the ledger and the healer's quarantine, and keeps lakes 7 days by default"
  }
  assert {
    # Every S3 resource the chaos role names is under chaos/ (objects), or a bucket listed
    # only under the chaos/ prefix.
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.chaos.policy).Statement : [
        for r in flatten([s.Resource]) : (
          contains(["arn:aws:s3:::lc-test-curated-123456789012/chaos/*", "arn:aws:s3:::lc-test-quarantine-123456789012/chaos/*"], r)
          || (contains(flatten([s.Action]), "s3:ListBucket") && try(s.Condition.StringLike["s3:prefix"], []) == ["chaos/*", "chaos"])
          || (flatten([s.Action]) == ["s3:GetBucketVersioning"] && r == "arn:aws:s3:::lc-test-curated-123456789012")
        )
      ] if length([for a in flatten([s.Action]) : a if startswith(a, "s3:")]) > 0
    ]))
    error_message = "the chaos role's S3 access is confined to the game-day prefix"
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.chaos.policy).Statement : [
        for a in flatten([s.Action]) : startswith(a, "s3:Get") || a == "s3:ListBucket"
      ] if contains(flatten([s.Resource]), "arn:aws:s3:::lc-test-quarantine-123456789012/chaos/*") || contains(flatten([s.Resource]), "arn:aws:s3:::lc-test-quarantine-123456789012")
    ]))
    error_message = "the chaos role only reads the quarantine"
  }
  assert {
    condition = alltrue([
      for s in jsondecode(aws_iam_role_policy.chaos.policy).Statement :
      try(s.Condition.StringEquals["cloudwatch:namespace"], "") == "Lakechaos" if contains(flatten([s.Action]), "cloudwatch:PutMetricData")
    ])
    error_message = "the chaos role publishes metrics only in the Lakechaos namespace"
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.chaos.policy).Statement : [
        for r in flatten([s.Resource]) : contains([aws_sqs_queue.gameday_incidents.arn, aws_sqs_queue.healer_dlq.arn], r)
      ] if length([for a in flatten([s.Action]) : a if startswith(a, "sqs:")]) > 0
    ]))
    error_message = "the chaos role reaches only its ledger and the dead-letter queue"
  }
}
