variable "name" {
  description = "Prefix of every resource name (lower case, digits and dashes), e.g. `lakechaos-staging`."
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name: 3-31 characters, lower case letters, digits and dashes, starting with a letter."
  }
}

variable "tables" {
  description = "Fixture tables registered in the Glue database: name => S3 prefix under the curated bucket."
  type        = map(string)
  default     = { orders = "orders" }
}

variable "healer_zip" {
  description = "Path of the healer's Lambda zip (a `bootstrap` executable for provided.al2023)."
  type        = string
}

variable "chaos_zip" {
  description = "Path of the chaos injector's Lambda zip (a `bootstrap` executable for provided.al2023)."
  type        = string
}

variable "lambda_architecture" {
  description = "Instruction set of both Lambda zips."
  type        = string
  default     = "x86_64"
  validation {
    condition     = contains(["x86_64", "arm64"], var.lambda_architecture)
    error_message = "lambda_architecture: x86_64 or arm64."
  }
}

variable "gameday_schedule" {
  description = "EventBridge Scheduler expression for game days, e.g. `cron(0 10 ? * TUE *)`."
  type        = string
  default     = "cron(0 10 ? * TUE *)"
}

variable "gameday_enabled" {
  description = "Whether the game-day schedule is enabled."
  type        = bool
  default     = false
}

variable "gameday_scenarios" {
  description = "Scenario names the scheduled game day injects, passed to the chaos function."
  type        = list(string)
  default     = ["null-flood-customer-id"]
}

variable "quarantine_expiration_days" {
  description = "Days after which quarantined objects expire (they are kept for investigation until then)."
  type        = number
  default     = 90
}

variable "raw_noncurrent_version_days" {
  description = "Days noncurrent versions are kept in the raw and curated buckets (the healer restores from them)."
  type        = number
  default     = 30
}

variable "unrepairable_alarm_threshold" {
  description = "Unrepairable incidents in 5 minutes that raise the alarm."
  type        = number
  default     = 1
}

variable "alarm_actions" {
  description = "Extra ARNs notified by the alarms (the incidents topic always is)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of the functions' CloudWatch log groups (a year by default: game-day evidence)."
  type        = number
  default     = 365
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "reconcile_schedule" {
  description = "When the healer runs a reconcile pass over the whole lake and its Lake Formation grants."
  type        = string
  default     = "rate(5 minutes)"
}

variable "score_schedule" {
  description = "EventBridge Scheduler expression of the game-day scoring pass (on while game days are enabled)."
  type        = string
  default     = "rate(5 minutes)"
}

variable "gameday_retention_days" {
  description = "Game-day lakes older than this many days are deleted by the scoring pass (their reports stay)."
  type        = number
  default     = 7
  validation {
    condition     = var.gameday_retention_days >= 1 && floor(var.gameday_retention_days) == var.gameday_retention_days
    error_message = "gameday_retention_days: a whole number of days, at least 1."
  }
}
