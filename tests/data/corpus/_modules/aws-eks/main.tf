# An EKS module shaped like the community one: the cluster, an optional KMS key for
# secrets, add-ons from a map, and node groups from maps of settings merged over
# defaults with try(), through child modules called with for_each.
variable "cluster_name" { type = string }
variable "cluster_version" { type = string }
variable "subnet_ids" { type = list(string) }
variable "endpoint_private_access" {
  type    = bool
  default = true
}
variable "endpoint_public_access" {
  type    = bool
  default = true
}
variable "public_access_cidrs" {
  type    = list(string)
  default = ["0.0.0.0/0"]
}
variable "enabled_log_types" {
  type    = list(string)
  default = ["audit", "api", "authenticator"]
}
variable "create_kms_key" {
  type    = bool
  default = true
}
variable "addons" {
  type    = any
  default = {}
}
variable "compute_config" {
  type    = any
  default = {}
}
variable "eks_managed_node_groups" {
  type    = any
  default = {}
}
variable "eks_managed_node_group_defaults" {
  type    = any
  default = {}
}
variable "self_managed_node_groups" {
  type    = any
  default = {}
}

locals {
  auto_mode = try(var.compute_config.enabled, false)
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name_prefix        = "${var.cluster_name}-cluster-"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_kms_key" "this" {
  count                   = var.create_kms_key ? 1 : 0
  description             = "${var.cluster_name} secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_eks_cluster" "this" {
  name                          = var.cluster_name
  role_arn                      = aws_iam_role.cluster.arn
  version                       = var.cluster_version
  enabled_cluster_log_types     = var.enabled_log_types
  bootstrap_self_managed_addons = local.auto_mode ? false : null

  access_config {
    authentication_mode = "API"
  }

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = var.endpoint_private_access
    endpoint_public_access  = var.endpoint_public_access
    public_access_cidrs     = var.public_access_cidrs
  }

  dynamic "encryption_config" {
    for_each = var.create_kms_key ? [1] : []
    content {
      resources = ["secrets"]
      provider {
        key_arn = aws_kms_key.this[0].arn
      }
    }
  }

  dynamic "compute_config" {
    for_each = local.auto_mode ? [var.compute_config] : []
    content {
      enabled       = true
      node_pools    = compute_config.value.node_pools
      node_role_arn = aws_iam_role.cluster.arn
    }
  }

  dynamic "kubernetes_network_config" {
    for_each = local.auto_mode ? [1] : []
    content {
      elastic_load_balancing {
        enabled = true
      }
    }
  }

  dynamic "storage_config" {
    for_each = local.auto_mode ? [1] : []
    content {
      block_storage {
        enabled = true
      }
    }
  }
}

resource "aws_eks_addon" "this" {
  for_each             = var.addons
  cluster_name         = aws_eks_cluster.this.name
  addon_name           = try(each.value.name, each.key)
  configuration_values = try(each.value.configuration_values, null)
}

module "eks_managed_node_group" {
  source   = "./modules/managed-group"
  for_each = var.eks_managed_node_groups

  cluster_name   = aws_eks_cluster.this.name
  name           = try(each.value.name, each.key)
  subnet_ids     = try(each.value.subnet_ids, var.subnet_ids)
  min_size       = try(each.value.min_size, var.eks_managed_node_group_defaults.min_size, 1)
  max_size       = try(each.value.max_size, var.eks_managed_node_group_defaults.max_size, 3)
  desired_size   = try(each.value.desired_size, each.value.min_size, 1)
  instance_types = try(each.value.instance_types, var.eks_managed_node_group_defaults.instance_types, null)
  capacity_type  = try(each.value.capacity_type, var.eks_managed_node_group_defaults.capacity_type, null)
  taints         = try(each.value.taints, {})
  update_config  = try(each.value.update_config, var.eks_managed_node_group_defaults.update_config, { max_unavailable_percentage = 33 })
  ebs_kms_key_id = try(each.value.ebs_kms_key_id, var.eks_managed_node_group_defaults.ebs_kms_key_id, null)
}

module "self_managed_node_group" {
  source   = "./modules/self-managed-group"
  for_each = var.self_managed_node_groups

  cluster_name              = aws_eks_cluster.this.name
  name                      = try(each.value.name, each.key)
  subnet_ids                = try(each.value.subnet_ids, var.subnet_ids)
  min_size                  = try(each.value.min_size, 1)
  max_size                  = try(each.value.max_size, 3)
  instance_type             = try(each.value.instance_type, "m5.large")
  use_mixed_instances_policy = try(each.value.use_mixed_instances_policy, false)
  on_demand_percentage      = try(each.value.on_demand_percentage, 100)
  instance_refresh          = try(each.value.instance_refresh, {})
}

output "cluster_name" { value = aws_eks_cluster.this.name }
