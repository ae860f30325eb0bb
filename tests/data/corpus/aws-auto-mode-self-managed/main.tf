# One cluster on EKS Auto Mode plus a self-managed node group (launch template + Auto
# Scaling group) with a Spot mix and an instance refresh; /26 private subnets.
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

locals {
  azs = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
}

module "vpc" {
  source = "../_modules/aws-vpc"

  name            = "auto"
  cidr            = "10.2.0.0/16"
  azs             = local.azs
  public_subnets  = ["10.2.0.0/24", "10.2.1.0/24", "10.2.2.0/24"]
  private_subnets = ["10.2.10.0/26", "10.2.10.64/26", "10.2.10.128/26"]
}

module "eks" {
  source = "../_modules/aws-eks"

  cluster_name            = "auto"
  cluster_version         = "1.34"
  subnet_ids              = module.vpc.private_subnets
  endpoint_private_access = true
  public_access_cidrs     = ["198.51.100.0/24"]

  compute_config = {
    enabled    = true
    node_pools = ["general-purpose", "system"]
  }

  self_managed_node_groups = {
    batch = {
      instance_type              = "m5.large"
      min_size                   = 3
      max_size                   = 20
      use_mixed_instances_policy = true
      on_demand_percentage       = 20
      instance_refresh           = { strategy = "Rolling" }
    }
  }
}
