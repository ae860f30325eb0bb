# A cluster written without kubeprod, laid out like terraform-aws-modules/vpc + /eks:
# resources live in module.vpc, module.eks and
# module.eks.module.eks_managed_node_group["<name>"]. The policy tests plan it against
# the local cloud and judge the plan.
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

module "vpc" {
  source          = "./modules/vpc"
  name            = "modular"
  cidr            = "10.1.0.0/16"
  azs             = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  public_subnets  = ["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"]
  private_subnets = ["10.1.10.0/24", "10.1.11.0/24", "10.1.12.0/24"]
}

module "eks" {
  source              = "./modules/eks"
  cluster_name        = "modular"
  cluster_version     = "1.35"
  subnet_ids          = module.vpc.private_subnets
  public_access_cidrs = ["0.0.0.0/0"]
  eks_managed_node_groups = {
    system = {
      instance_types = ["m5.large"]
      min_size       = 3
      max_size       = 6
      taint          = true
    }
    workload = {
      instance_types = ["m5.large"]
      min_size       = 2
      max_size       = 20
      taint          = false
    }
  }
}
