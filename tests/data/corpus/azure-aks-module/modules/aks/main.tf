variable "prefix" { type = string }
variable "resource_group_name" { type = string }
variable "location" { type = string }
variable "kubernetes_version" { type = string }
variable "vnet_subnet_id" { type = string }
variable "agents_availability_zones" {
  type    = list(string)
  default = null
}
variable "agents_min_count" {
  type    = number
  default = null
}
variable "agents_max_count" {
  type    = number
  default = null
}
variable "agents_size" {
  type    = string
  default = "Standard_D4s_v3"
}
variable "only_critical_addons_enabled" {
  type    = bool
  default = null
}
variable "private_cluster_enabled" {
  type    = bool
  default = false
}
variable "sku_tier" {
  type    = string
  default = "Standard"
}
variable "network_plugin" {
  type    = string
  default = "azure"
}
variable "network_policy" {
  type    = string
  default = "azure"
}
variable "kms_enabled" {
  type    = bool
  default = false
}
variable "kms_key_vault_key_id" {
  type    = string
  default = null
}
variable "node_pools" {
  type    = any
  default = {}
}

locals {
  default_pool = {
    name                         = "system"
    vm_size                      = var.agents_size
    auto_scaling_enabled         = true
    min_count                    = var.agents_min_count
    max_count                    = var.agents_max_count
    max_pods                     = 30
    zones                        = var.agents_availability_zones
    only_critical_addons_enabled = var.only_critical_addons_enabled
  }
}

resource "azurerm_kubernetes_cluster" "main" {
  name                      = "${var.prefix}-aks"
  location                  = var.location
  resource_group_name       = var.resource_group_name
  dns_prefix                = var.prefix
  kubernetes_version        = var.kubernetes_version
  sku_tier                  = var.sku_tier
  private_cluster_enabled   = var.private_cluster_enabled
  automatic_upgrade_channel = "patch"
  node_os_upgrade_channel   = "NodeImage"
  azure_policy_enabled      = true

  dynamic "default_node_pool" {
    for_each = [local.default_pool]
    content {
      name                         = default_node_pool.value.name
      vm_size                      = default_node_pool.value.vm_size
      auto_scaling_enabled         = default_node_pool.value.auto_scaling_enabled
      min_count                    = default_node_pool.value.min_count
      max_count                    = default_node_pool.value.max_count
      max_pods                     = default_node_pool.value.max_pods
      zones                        = default_node_pool.value.zones
      only_critical_addons_enabled = default_node_pool.value.only_critical_addons_enabled
      vnet_subnet_id               = var.vnet_subnet_id
    }
  }

  auto_scaler_profile {
    scale_down_delay_after_add = "30m"
    scale_down_unneeded        = "30m"
    scale_down_utilization_threshold = "0.4"
  }

  identity {
    type = "SystemAssigned"
  }

  network_profile {
    network_plugin = var.network_plugin
    network_policy = var.network_policy
  }

  dynamic "key_management_service" {
    for_each = var.kms_enabled ? ["kms"] : []
    content {
      key_vault_key_id         = var.kms_key_vault_key_id
      key_vault_network_access = "Public"
    }
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "this" {
  for_each = var.node_pools

  name                  = each.key
  kubernetes_cluster_id = azurerm_kubernetes_cluster.main.id
  mode                  = "User"
  vm_size               = each.value.vm_size
  auto_scaling_enabled  = true
  min_count             = each.value.min_count
  max_count             = each.value.max_count
  max_pods              = try(each.value.max_pods, 30)
  zones                 = try(each.value.zones, null)
  vnet_subnet_id        = var.vnet_subnet_id
}
