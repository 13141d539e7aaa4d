# A staging lakehouse for game days. Build the function zips first (see terraform/README.md),
# then: terraform init && terraform apply -var healer_zip=... -var chaos_zip=...
#
# With `aws_endpoint` set, every service is pointed at one emulator endpoint (moto), with its
# dummy credentials; that is how CI applies and destroys this example.

provider "aws" {
  region = var.region

  access_key                  = var.aws_endpoint == null ? null : "test"
  secret_key                  = var.aws_endpoint == null ? null : "test"
  skip_credentials_validation = var.aws_endpoint != null
  skip_requesting_account_id  = var.aws_endpoint != null
  skip_metadata_api_check     = var.aws_endpoint != null
  s3_use_path_style           = var.aws_endpoint != null

  dynamic "endpoints" {
    for_each = var.aws_endpoint == null ? [] : [var.aws_endpoint]
    content {
      cloudwatch     = endpoints.value
      cloudwatchlogs = endpoints.value
      eventbridge    = endpoints.value
      glue           = endpoints.value
      iam            = endpoints.value
      kms            = endpoints.value
      lakeformation  = endpoints.value
      lambda         = endpoints.value
      s3             = endpoints.value
      scheduler      = endpoints.value
      sns            = endpoints.value
      sqs            = endpoints.value
      sts            = endpoints.value
    }
  }

  default_tags {
    tags = { environment = "staging", "managed-by" = "terraform" }
  }
}

module "lakehouse" {
  source = "../../modules/lakehouse"

  name              = var.name
  healer_zip        = var.healer_zip
  chaos_zip         = var.chaos_zip
  gameday_enabled   = var.gameday_enabled
  gameday_schedule  = "cron(0 10 ? * TUE *)"
  gameday_scenarios = ["null-flood-customer-id", "missing-partition-files", "corrupt-parquet-truncated-tail"]
}
