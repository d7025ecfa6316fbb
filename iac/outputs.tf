output "app_url" {
  description = "The sample service: open it, or curl -i it for the traceresponse header."
  value       = "http://${aws_instance.lab.public_ip}/"
}

output "jaeger_ui_url" {
  description = "Jaeger's UI: look for the service service_example."
  value       = "http://${aws_instance.lab.public_ip}:16686/"
}

output "instance_id" {
  description = "The VM's id, for aws ssm start-session --target <id>."
  value       = aws_instance.lab.id
}

output "public_ip" {
  description = "The VM's public IPv4 address."
  value       = aws_instance.lab.public_ip
}
