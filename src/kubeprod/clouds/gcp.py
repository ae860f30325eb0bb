"""GCP: Environment -> a GKE production root module (google provider 6.x).

One module writes each file (see `gcp_common` for the map): versions, providers, project
(APIs, audit logs, service agents, log retention), network, kms, gke, nodes, access
(cluster admins), binauthz (the Binary Authorization policy), notifications (GKE cluster
notifications), monitoring, backup (Backup for GKE), gitops (Config Sync, only with
`cluster.gitops.mode: config-sync`), outputs. `gcp_bootstrap` renders the small separate
module that creates the GCS state bucket the main module's backend uses.
The output is also valid against google 8.x (no attribute that 8.x dropped is used).
"""

from __future__ import annotations

from typing import ClassVar

from kubeprod.clouds.base import Files
from kubeprod.clouds.gcp_access import access_tf
from kubeprod.clouds.gcp_backup import backup_blocks
from kubeprod.clouds.gcp_binauthz import binauthz_tf
from kubeprod.clouds.gcp_common import crypto_key, gcp_of
from kubeprod.clouds.gcp_gitops import config_sync_on, gitops_tf
from kubeprod.clouds.gcp_gke import gke_tf
from kubeprod.clouds.gcp_kms import kms_tf
from kubeprod.clouds.gcp_monitoring import monitoring_tf
from kubeprod.clouds.gcp_network import network_tf
from kubeprod.clouds.gcp_nodes import nodes_tf
from kubeprod.clouds.gcp_notifications import notifications_tf
from kubeprod.clouds.gcp_outputs import outputs_tf
from kubeprod.clouds.gcp_project import project_tf
from kubeprod.clouds.gcp_versions import providers_tf, versions_tf
from kubeprod.spec.model import Environment


class GcpRenderer:
    """GKE production environment on GCP."""

    name: ClassVar = "gcp"

    def render(self, env: Environment) -> Files:
        gcp_of(env)
        # DR-1 / DR-4: Backup for GKE, its backups encrypted with their own key.
        backup_key = crypto_key("backup", "gke-backups", env, ring="backup")
        return {
            "versions.tf": versions_tf(env),
            "providers.tf": providers_tf(env),
            "project.tf": project_tf(env),
            "network.tf": network_tf(env),
            "kms.tf": kms_tf(env),
            "gke.tf": gke_tf(env),
            "nodes.tf": nodes_tf(env),
            "access.tf": access_tf(env),
            "binauthz.tf": binauthz_tf(env),
            "notifications.tf": notifications_tf(env),
            "monitoring.tf": monitoring_tf(env),
            "backup.tf": backup_blocks(env, backup_key),
            **({"gitops.tf": gitops_tf(env)} if config_sync_on(env) else {}),
            "outputs.tf": outputs_tf(),
        }
