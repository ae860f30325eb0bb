variable "project_id" { type = string }
variable "name" { type = string }
variable "region" { type = string }
variable "zones" { type = list(string) }
variable "network" { type = string }
variable "subnetwork" { type = string }
variable "ip_range_pods" { type = string }
variable "ip_range_services" { type = string }
variable "master_ipv4_cidr_block" { type = string }
variable "enable_private_endpoint" {
  type    = bool
  default = true
}
variable "enable_private_nodes" {
  type    = bool
  default = true
}
variable "release_channel" {
  type    = string
  default = null
}
variable "master_authorized_networks" {
  type    = list(object({ cidr_block = string, display_name = string }))
  default = []
}
variable "database_encryption" {
  type    = list(object({ state = string, key_name = string }))
  default = [{ state = "DECRYPTED", key_name = "" }]
}
variable "logging_enabled_components" {
  type    = list(string)
  default = ["SYSTEM_COMPONENTS", "WORKLOADS"]
}
variable "node_pools" {
  type    = list(map(any))
  default = []
}
variable "deletion_protection" {
  type    = bool
  default = true
}

locals {
  release_channel = var.release_channel != null ? [{ channel = var.release_channel }] : []
  node_pools      = { for np in var.node_pools : np.name => np }
}

resource "google_container_cluster" "primary" {
  name                     = var.name
  project                  = var.project_id
  location                 = var.region
  node_locations           = var.zones
  network                  = var.network
  subnetwork               = var.subnetwork
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = var.deletion_protection
  datapath_provider        = "ADVANCED_DATAPATH"

  ip_allocation_policy {
    cluster_secondary_range_name  = var.ip_range_pods
    services_secondary_range_name = var.ip_range_services
  }

  dynamic "release_channel" {
    for_each = local.release_channel
    content {
      channel = release_channel.value.channel
    }
  }

  dynamic "private_cluster_config" {
    for_each = var.enable_private_nodes ? [{
      enable_private_nodes    = var.enable_private_nodes
      enable_private_endpoint = var.enable_private_endpoint
      master_ipv4_cidr_block  = var.master_ipv4_cidr_block
    }] : []
    content {
      enable_private_endpoint = private_cluster_config.value.enable_private_endpoint
      enable_private_nodes    = private_cluster_config.value.enable_private_nodes
      master_ipv4_cidr_block  = private_cluster_config.value.master_ipv4_cidr_block
    }
  }

  dynamic "master_authorized_networks_config" {
    for_each = length(var.master_authorized_networks) > 0 ? [1] : []
    content {
      dynamic "cidr_blocks" {
        for_each = var.master_authorized_networks
        content {
          cidr_block   = lookup(cidr_blocks.value, "cidr_block", "")
          display_name = lookup(cidr_blocks.value, "display_name", "")
        }
      }
    }
  }

  dynamic "database_encryption" {
    for_each = var.database_encryption
    content {
      key_name = database_encryption.value.key_name
      state    = database_encryption.value.state
    }
  }

  logging_config {
    enable_components = var.logging_enabled_components
  }
}

resource "google_container_node_pool" "pools" {
  for_each = local.node_pools

  name     = each.key
  project  = var.project_id
  location = var.region
  cluster  = google_container_cluster.primary.name

  autoscaling {
    min_node_count = lookup(each.value, "min_count", 1)
    max_node_count = lookup(each.value, "max_count", 100)
  }

  management {
    auto_repair  = lookup(each.value, "auto_repair", true)
    auto_upgrade = lookup(each.value, "auto_upgrade", true)
  }

  node_config {
    machine_type = lookup(each.value, "machine_type", "e2-medium")
    spot         = lookup(each.value, "spot", false)

    dynamic "taint" {
      for_each = lookup(each.value, "system", false) ? [1] : []
      content {
        key    = "CriticalAddonsOnly"
        value  = "true"
        effect = "NO_SCHEDULE"
      }
    }
  }
}
