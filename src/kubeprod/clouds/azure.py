"""Azure AKS renderer: Environment -> a production Terraform root module for azurerm 4.x.

One module writes each file (see `azure_common` for the map); zonal things (node subnets,
NAT gateways with their public IPs, user node pools) are one `for_each` over
`local.zones`, so the three zones are one definition, not three copies. See docs/azure.md.
"""

from __future__ import annotations

from typing import ClassVar

from kubeprod.clouds.azure_aks import aks_tf
from kubeprod.clouds.azure_backup import backup_blocks
from kubeprod.clouds.azure_common import azure_of, check_addresses, webhook_targets
from kubeprod.clouds.azure_gitops import gitops_tf
from kubeprod.clouds.azure_locals import locals_tf
from kubeprod.clouds.azure_monitoring import monitoring_tf, variables_tf
from kubeprod.clouds.azure_network import network_tf
from kubeprod.clouds.azure_outputs import outputs_tf
from kubeprod.clouds.azure_security import security_tf, vault_key
from kubeprod.clouds.azure_versions import providers_tf, versions_tf
from kubeprod.clouds.base import Files
from kubeprod.errors import InputError
from kubeprod.spec.model import Environment


class AzureRenderer:
    """Renders the AKS root module."""

    name: ClassVar[str] = "azure"

    def render(self, env: Environment) -> Files:
        azure_of(env)
        check_addresses(env)
        for group_name in ("system", "workload"):
            if getattr(env.node_groups, group_name).capacity_type != "on-demand":
                raise InputError(
                    f"node_groups.{group_name}.capacity_type is not on-demand; production "
                    "never runs on Spot (CHR-4). Fix: set capacity_type: on-demand"
                )
        return {
            "versions.tf": versions_tf(env),
            "providers.tf": providers_tf(env, manage_compute=True),
            "locals.tf": locals_tf(env),
            "network.tf": network_tf(env),
            "security.tf": security_tf(env),
            "aks.tf": aks_tf(env),
            "monitoring.tf": monitoring_tf(env),
            # DR-1 / DR-4: AKS Backup, its storage encrypted with a Key Vault key.
            "backup.tf": backup_blocks(env, vault_key("backup", "storage")),
            "outputs.tf": outputs_tf(),
            **({"variables.tf": variables_tf(env)} if webhook_targets(env) else {}),
            **({"gitops.tf": gitops_tf(env)} if env.cluster.gitops.mode == "flux" else {}),
        }
