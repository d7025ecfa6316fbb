variable "region" {
  description = "AWS region to deploy the lab VM in."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "The region must look like us-east-1 or eu-west-3."
  }
}

variable "instance_type" {
  description = "EC2 instance type. The VM builds the service image itself, which needs about 4 GiB of memory: t3.medium or larger."
  type        = string
  default     = "t3.medium"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.instance_type))
    error_message = "The instance type must look like t3.medium."
  }
}

variable "allowed_app_cidrs" {
  description = "CIDR blocks allowed to reach the sample service on port 80, for example [\"203.0.113.4/32\"] for your own address."
  type        = list(string)

  validation {
    condition     = length(var.allowed_app_cidrs) > 0 && alltrue([for cidr in var.allowed_app_cidrs : can(cidrnetmask(cidr))])
    error_message = "Give at least one IPv4 CIDR block, such as 203.0.113.4/32."
  }
}

variable "allowed_jaeger_cidrs" {
  description = "CIDR blocks allowed to reach the Jaeger UI on port 16686. Keep it narrow: the UI has no login. Empty: the UI listens on the VM's loopback only (reach it with an SSM or SSH tunnel). 0.0.0.0/0 is refused unless allow_jaeger_from_anywhere is true."
  type        = list(string)

  validation {
    condition     = alltrue([for cidr in var.allowed_jaeger_cidrs : can(cidrnetmask(cidr))])
    error_message = "Give IPv4 CIDR blocks, such as 203.0.113.4/32."
  }
}

variable "allow_jaeger_from_anywhere" {
  description = "Set to true to let allowed_jaeger_cidrs include 0.0.0.0/0: Jaeger's UI, which has no login, then shows every span to the whole internet."
  type        = bool
  default     = false
}

variable "ssh_public_key" {
  description = "Optional SSH public key (the text of an id_ed25519.pub). Unset, port 22 stays closed; use AWS Systems Manager Session Manager to get a shell instead."
  type        = string
  default     = null

  validation {
    condition     = var.ssh_public_key == null || can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) ", var.ssh_public_key))
    error_message = "The SSH public key must be the one-line text of a .pub file (ssh-ed25519 ..., ssh-rsa ... or ecdsa-sha2-nistp256 ...)."
  }
}

variable "ssh_cidrs" {
  description = "CIDR blocks allowed to reach SSH on port 22; used only when ssh_public_key is set."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.ssh_cidrs : can(cidrnetmask(cidr)) && cidr != "0.0.0.0/0"])
    error_message = "SSH CIDR blocks must be valid IPv4 CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "repository_url" {
  description = "HTTPS URL of this lab's git repository (or your fork), cloned on the VM to build the service image."
  type        = string

  validation {
    # Letters, digits and . _ ~ - in the host and path only: the URL goes into a shell script.
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)+$", var.repository_url))
    error_message = "The repository URL must be a plain https:// URL such as https://github.com/you/rust-tracing-lab.git: letters, digits, '.', '_', '~', '-' and '/' only, no credentials, no query."
  }
}

variable "git_commit" {
  description = "The full commit id (40 hex digits) of the repository to deploy: a commit, unlike a branch, never moves, so the VM runs exactly what was reviewed. git rev-parse HEAD prints it."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{40}$", var.git_commit))
    error_message = "git_commit must be a full commit id, 40 lowercase hex digits (git rev-parse HEAD prints it), not a branch or a tag."
  }
}

variable "tags" {
  description = "Tags put on every resource this configuration creates."
  type        = map(string)
  default = {
    Project = "rust-tracing-lab"
  }
}
