# An AKS cluster through a module shaped like the community AKS modules: the default
# pool and the KMS settings as dynamic blocks, extra pools from a map with for_each,
# Azure CNI (flat) with max_pods = 100 for the user pool in one /24 subnet.
terraform {
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.0"
    }
  }
}

provider "azurerm" {
  features {}
}

variable "location" {
  type    = string
  default = "westeurope"
}
variable "kubernetes_version" { type = string }

locals {
  zones = ["1", "2", "3"]
}

resource "azurerm_resource_group" "this" {
  name     = "rg-corp-aks"
  location = var.location
}

resource "azurerm_virtual_network" "this" {
  name                = "vnet-corp"
  location            = var.location
  resource_group_name = azurerm_resource_group.this.name
  address_space       = ["10.10.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "snet-nodes"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = ["10.10.1.0/24"]
}

resource "azurerm_key_vault" "this" {
  name                     = "kv-corp-aks"
  location                 = var.location
  resource_group_name      = azurerm_resource_group.this.name
  tenant_id                = "00000000-0000-0000-0000-000000000000"
  sku_name                 = "premium"
  purge_protection_enabled = true
}

resource "azurerm_key_vault_key" "etcd" {
  name         = "etcd"
  key_vault_id = azurerm_key_vault.this.id
  key_type     = "RSA"
  key_size     = 2048
  key_opts     = ["decrypt", "encrypt", "sign", "unwrapKey", "verify", "wrapKey"]
}

module "aks" {
  source = "./modules/aks"

  prefix                       = "corp"
  resource_group_name          = azurerm_resource_group.this.name
  location                     = var.location
  kubernetes_version           = var.kubernetes_version
  vnet_subnet_id               = azurerm_subnet.nodes.id
  agents_availability_zones    = local.zones
  agents_min_count             = 3
  agents_max_count             = 6
  only_critical_addons_enabled = true
  private_cluster_enabled      = true
  kms_enabled                  = true
  kms_key_vault_key_id         = azurerm_key_vault_key.etcd.id

  node_pools = {
    user = {
      vm_size   = "Standard_D4s_v3"
      min_count = 3
      max_count = 20
      max_pods  = 100
      zones     = local.zones
    }
  }
}
