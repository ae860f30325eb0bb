# A GKE cluster through a module shaped like the community "safer" private cluster: the
# private cluster, authorized networks, release channel and database encryption as
# dynamic blocks fed from variables; node pools from a list turned into a map.
terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

variable "project_id" { type = string }
variable "region" {
  type    = string
  default = "europe-west1"
}

resource "google_compute_network" "vpc" {
  name                    = "gke-net"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "nodes" {
  name                     = "gke-nodes"
  network                  = google_compute_network.vpc.id
  region                   = var.region
  ip_cidr_range            = "10.20.0.0/20"
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = "10.24.0.0/14"
  }
  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = "10.28.0.0/20"
  }
}

resource "google_compute_router" "router" {
  name    = "gke-router"
  network = google_compute_network.vpc.id
  region  = var.region
}

resource "google_compute_router_nat" "nat" {
  name                               = "gke-nat"
  router                             = google_compute_router.router.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}

resource "google_kms_key_ring" "gke" {
  name     = "gke"
  location = var.region
}

resource "google_kms_crypto_key" "etcd" {
  name            = "etcd"
  key_ring        = google_kms_key_ring.gke.id
  rotation_period = "7776000s"
}

module "gke" {
  source = "./modules/safer"

  project_id             = var.project_id
  name                   = "safer"
  region                 = var.region
  zones                  = ["europe-west1-b", "europe-west1-c", "europe-west1-d"]
  network                = google_compute_network.vpc.name
  subnetwork             = google_compute_subnetwork.nodes.name
  ip_range_pods          = "pods"
  ip_range_services      = "services"
  master_ipv4_cidr_block = "172.16.0.0/28"
  release_channel        = "REGULAR"

  master_authorized_networks = [
    { cidr_block = "10.0.0.0/8", display_name = "corp" },
  ]

  database_encryption = [{
    state    = "ENCRYPTED"
    key_name = google_kms_crypto_key.etcd.id
  }]

  node_pools = [
    { name = "system", machine_type = "e2-standard-4", min_count = 1, max_count = 2, system = true },
    { name = "workload", machine_type = "e2-standard-4", min_count = 1, max_count = 7 },
  ]
}
