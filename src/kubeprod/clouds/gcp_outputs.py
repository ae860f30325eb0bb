"""GKE module: outputs.tf."""

from __future__ import annotations

from kubeprod.hcl import Block, Comment, Expr
from kubeprod.hcl.shorthand import B, E, template


def outputs_tf() -> list[Block | Comment]:
    """outputs.tf: the cluster, credentials command, network, node account, egress, key."""

    def out(name: str, value: Expr, description: str) -> Block:
        return B("output", name, value=value, description=description)

    return [
        out("cluster_name", E("google_container_cluster.this.name"), "GKE cluster name"),
        out("location", E("google_container_cluster.this.location"), "Cluster region"),
        out(
            "get_credentials",
            template(
                "gcloud container clusters get-credentials ",
                E("google_container_cluster.this.name"),
                " --region ",
                E("local.region"),
                " --project ",
                E("local.project"),
            ),
            "Command that writes a kubeconfig entry for the cluster",
        ),
        out("network", E("google_compute_network.this.id"), "VPC network ID"),
        out("node_subnet", E("google_compute_subnetwork.nodes.id"), "Node subnet ID"),
        out(
            "node_service_account",
            E("google_service_account.nodes.email"),
            "Service account the nodes run as",
        ),
        out("nat_ips", E("google_compute_address.nat[*].address"), "Egress addresses"),
        out(
            "secrets_key",
            E("google_kms_crypto_key.secrets.id"),
            "KMS key encrypting Kubernetes secrets",
        ),
    ]
