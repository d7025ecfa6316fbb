# One Ubuntu VM that runs the sample service and Jaeger with docker compose, as the original lab's
# last step did, reachable only from the CIDR blocks you allow.

locals {
  name = "rust-tracing-lab"
  cloud_init = templatefile("${path.module}/templates/cloud-init.yaml.tftpl", {
    repository_url = var.repository_url
    git_commit     = var.git_commit
    jaeger_address = length(var.allowed_jaeger_cidrs) > 0 ? "0.0.0.0" : "127.0.0.1"
  })
}

# The latest Ubuntu LTS published by Canonical (its owner id), not a hard-coded AMI.
data "aws_ami" "ubuntu" {
  most_recent = true
  owners      = ["099720109477"]

  filter {
    name   = "name"
    values = ["ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"]
  }

  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

data "aws_vpc" "default" {
  default = true
}

# The availability zones that offer the chosen instance type: not all of them offer every type,
# and a subnet elsewhere would fail the apply.
data "aws_ec2_instance_type_offerings" "lab" {
  location_type = "availability-zone"

  filter {
    name   = "instance-type"
    values = [var.instance_type]
  }
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }

  filter {
    name   = "availability-zone"
    values = data.aws_ec2_instance_type_offerings.lab.locations
  }

  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

resource "aws_security_group" "lab" {
  name_prefix = "${local.name}-"
  description = "The tracing lab VM: the service and Jaeger UI from allowed CIDRs only"
  vpc_id      = data.aws_vpc.default.id

  lifecycle {
    create_before_destroy = true
  }
}

# One rule per allowed CIDR block, as separate resources: each carries its description.
resource "aws_vpc_security_group_ingress_rule" "app" {
  for_each = toset(var.allowed_app_cidrs)

  security_group_id = aws_security_group.lab.id
  description       = "The sample service (HTTP 80) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "jaeger_ui" {
  for_each = toset(var.allowed_jaeger_cidrs)

  security_group_id = aws_security_group.lab.id
  description       = "Jaeger's UI (16686) from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 16686
  to_port           = 16686
  cidr_ipv4         = each.value

  lifecycle {
    # Jaeger's UI has no login and shows every span: the whole internet only when asked for.
    precondition {
      condition     = var.allow_jaeger_from_anywhere || cidrnetmask(each.value) != "0.0.0.0"
      error_message = "allowed_jaeger_cidrs includes ${each.value}, the whole internet, but Jaeger's UI has no login: give your own address (such as 203.0.113.4/32), or set allow_jaeger_from_anywhere = true if you really mean it."
    }
  }
}

# SSH is closed unless a key is given; Session Manager (the instance profile below) needs no port.
resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each = var.ssh_public_key == null ? toset([]) : toset(var.ssh_cidrs)

  security_group_id = aws_security_group.lab.id
  description       = "SSH (22) from ${each.value}, because an SSH key was given"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}

# What the VM fetches: Ubuntu's packages (HTTP and HTTPS), the repository, crates and images (HTTPS).
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.lab.id
  description       = "HTTPS out: git clone, crates.io, Docker images, Session Manager"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "http" {
  security_group_id = aws_security_group.lab.id
  description       = "HTTP out: Ubuntu's package archives"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_key_pair" "lab" {
  count = var.ssh_public_key == null ? 0 : 1

  key_name_prefix = "${local.name}-"
  public_key      = var.ssh_public_key
}

# A role for Session Manager: a shell on the VM without opening SSH.
data "aws_iam_policy_document" "ec2_assume_role" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lab" {
  name_prefix        = "${local.name}-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume_role.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.lab.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "lab" {
  name_prefix = "${local.name}-"
  role        = aws_iam_role.lab.name
}

resource "aws_instance" "lab" {
  #checkov:skip=CKV_AWS_88:the lab's service and Jaeger UI are reached from the internet, limited to the allowed CIDRs by the security group
  ami                         = data.aws_ami.ubuntu.id
  instance_type               = var.instance_type
  subnet_id                   = sort(data.aws_subnets.default.ids)[0]
  vpc_security_group_ids      = [aws_security_group.lab.id]
  associate_public_ip_address = true
  iam_instance_profile        = aws_iam_instance_profile.lab.name
  key_name                    = var.ssh_public_key == null ? null : aws_key_pair.lab[0].key_name
  monitoring                  = true
  ebs_optimized               = true

  user_data                   = local.cloud_init
  user_data_replace_on_change = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  root_block_device {
    encrypted   = true
    volume_type = "gp3"
    volume_size = 30
  }

  tags = {
    Name = local.name
  }

  lifecycle {
    # Canonical publishes new images every few weeks; without this, the next apply would replace
    # the running VM. To move to a newer image on purpose: terraform apply -replace=aws_instance.lab
    ignore_changes = [ami]

    precondition {
      condition     = length(data.aws_subnets.default.ids) > 0
      error_message = "No default subnet of the default VPC is in an availability zone that offers ${var.instance_type} in ${var.region}: choose another instance_type or region."
    }
  }
}
