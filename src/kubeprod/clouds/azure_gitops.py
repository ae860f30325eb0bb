"""AKS GitOps hookup (spec `cluster.gitops.mode: flux`): gitops.tf.

The `microsoft.flux` cluster extension installs Flux v2 as an AKS-managed extension;
a flux configuration points it at the repository path holding the render's
kubernetes/ directory, so the in-cluster baseline is reconciled from Git (as
mspnp/aks-baseline does with its cluster-manifests/). Garbage collection stays off:
removing a file from Git must not delete a namespace and its workloads.
"""

from __future__ import annotations

from kubeprod.clouds.azure_common import CLUSTER
from kubeprod.hcl import Block, Comment
from kubeprod.hcl.shorthand import B, E, R, ref
from kubeprod.spec.model import Environment


def gitops_tf(env: Environment) -> list[Block | Comment]:
    gitops = env.cluster.gitops
    path = gitops.path_for(env.name, "azure")
    return [
        Comment(
            "SEC-5 / SEC-6: Flux (AKS extension microsoft.flux) applies the in-cluster\n"
            "baseline (default deny, restricted namespaces) from the repository."
        ),
        R(
            "azurerm_kubernetes_cluster_extension",
            "flux",
            name="flux",
            cluster_id=ref(CLUSTER, "id"),
            extension_type="microsoft.flux",
        ),
        R(
            "azurerm_kubernetes_flux_configuration",
            "baseline",
            name="kubeprod-baseline",
            cluster_id=ref(CLUSTER, "id"),
            namespace="flux-system",
            scope="cluster",
            git_repository=B(
                "git_repository",
                url=str(gitops.repository),
                reference_type="branch",
                reference_value=gitops.branch,
                sync_interval_in_seconds=300,
            ),
            kustomizations=B(
                "kustomizations",
                name="baseline",
                path=path,
                sync_interval_in_seconds=600,
                garbage_collection_enabled=False,
            ),
            depends_on=[E("azurerm_kubernetes_cluster_extension.flux")],
        ),
    ]
