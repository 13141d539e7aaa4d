output "buckets" {
  value = module.lakehouse.buckets
}

output "glue_database" {
  value = module.lakehouse.glue_database
}

output "healer_queue_url" {
  value = module.lakehouse.healer_queue_url
}

output "incidents_topic_arn" {
  value = module.lakehouse.incidents_topic_arn
}

output "functions" {
  value = module.lakehouse.functions
}
