variable "region" {
  description = "AWS region of the staging stack."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Resource name prefix."
  type        = string
  default     = "lakechaos-staging"
}

variable "healer_zip" {
  description = "The healer's Lambda zip."
  type        = string
}

variable "chaos_zip" {
  description = "The chaos injector's Lambda zip."
  type        = string
}

variable "gameday_enabled" {
  description = "Run the weekly game day."
  type        = bool
  default     = false
}

variable "aws_endpoint" {
  description = "One endpoint for every AWS service (an emulator such as moto); null for AWS."
  type        = string
  default     = null
}
