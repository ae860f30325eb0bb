variable "cluster_name" { type = string }
variable "cluster_version" { type = string }
variable "subnet_ids" { type = list(string) }
variable "public_access_cidrs" { type = list(string) }
variable "eks_managed_node_groups" { type = any }

resource "aws_kms_key" "this" {
  description             = "${var.cluster_name} secrets"
  enable_key_rotation     = true
  deletion_window_in_days = 30

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_iam_role" "this" {
  count = 1
  name  = "${var.cluster_name}-cluster"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}

resource "aws_cloudwatch_log_group" "this" {
  count             = 1
  name              = "/aws/eks/${var.cluster_name}/cluster"
  retention_in_days = 90
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_eks_cluster" "this" {
  count                     = 1
  name                      = var.cluster_name
  version                   = var.cluster_version
  role_arn                  = aws_iam_role.this[0].arn
  enabled_cluster_log_types = ["api", "audit", "authenticator"]

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = var.public_access_cidrs
  }

  encryption_config {
    resources = ["secrets"]
    provider {
      key_arn = aws_kms_key.this.arn
    }
  }

  upgrade_policy {
    support_type = "STANDARD"
  }
}

resource "aws_eks_addon" "this" {
  for_each             = { "vpc-cni" = { enableNetworkPolicy = "true" } }
  cluster_name         = aws_eks_cluster.this[0].name
  addon_name           = each.key
  configuration_values = jsonencode(each.value)
}

module "eks_managed_node_group" {
  source         = "../eks-managed-node-group"
  for_each       = var.eks_managed_node_groups
  name           = each.key
  cluster_name   = aws_eks_cluster.this[0].name
  subnet_ids     = var.subnet_ids
  instance_types = each.value.instance_types
  min_size       = each.value.min_size
  max_size       = each.value.max_size
  taint          = each.value.taint
}
