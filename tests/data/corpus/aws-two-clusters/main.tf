# Two clusters from one module call with for_each (blue/green), literal zones, a NAT
# gateway per zone, node groups merged over shared defaults, the allow-list from tfvars.
# blue is sized for production; green's workload group is not.
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "public_access_cidrs" {
  type = list(string)
}

variable "clusters" {
  type = any
  default = {
    blue  = { workload_min = 3, workload_max = 20 }
    green = { workload_min = 1, workload_max = 5 }
  }
}

locals {
  azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  node_defaults = {
    instance_types = ["m5.large"]
    capacity_type  = "ON_DEMAND"
    update_config  = { max_unavailable = 1 }
  }
}

module "vpc" {
  source = "../_modules/aws-vpc"

  name            = "bluegreen"
  cidr            = "10.1.0.0/16"
  azs             = local.azs
  public_subnets  = ["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"]
  private_subnets = ["10.1.16.0/20", "10.1.32.0/20", "10.1.48.0/20"]
}

module "eks" {
  source   = "../_modules/aws-eks"
  for_each = var.clusters

  cluster_name        = "prod-${each.key}"
  cluster_version     = "1.34"
  subnet_ids          = module.vpc.private_subnets
  public_access_cidrs = var.public_access_cidrs
  enabled_log_types   = ["api", "audit", "authenticator", "controllerManager", "scheduler"]

  addons = {
    vpc-cni = {
      configuration_values = jsonencode({ enableNetworkPolicy = "true" })
    }
  }

  eks_managed_node_group_defaults = local.node_defaults
  eks_managed_node_groups = {
    system = {
      min_size = 3
      max_size = 6
      taints = {
        critical = { key = "CriticalAddonsOnly", value = "true", effect = "NO_SCHEDULE" }
      }
    }
    workload = {
      min_size = each.value.workload_min
      max_size = each.value.workload_max
    }
  }
}
