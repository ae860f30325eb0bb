"""AWS: Environment -> an EKS production root module (aws provider 5.x).

One module writes each file (see `aws_common` for the map): versions, providers, locals,
network, kms, iam, eks, nodes, addons, autoscaler, observability, backup, outputs. Zones
drive `for_each` maps in `locals`, so a reviewer reads one block per concern, not three
copies. `aws_bootstrap` renders the separate module that creates the S3 state bucket the
main module's backend uses.
"""

from __future__ import annotations

from typing import ClassVar

from kubeprod.clouds.aws_addons import addons_tf
from kubeprod.clouds.aws_autoscaler import autoscaler_tf
from kubeprod.clouds.aws_backup import backup_blocks
from kubeprod.clouds.aws_common import aws_of
from kubeprod.clouds.aws_eks import eks_tf
from kubeprod.clouds.aws_kms import key_policy_for, kms_tf
from kubeprod.clouds.aws_locals import locals_tf
from kubeprod.clouds.aws_network import network_tf
from kubeprod.clouds.aws_nodes import nodes_tf
from kubeprod.clouds.aws_observability import observability_tf
from kubeprod.clouds.aws_outputs import outputs_tf
from kubeprod.clouds.aws_roles import iam_tf
from kubeprod.clouds.aws_versions import providers_tf, versions_tf
from kubeprod.clouds.base import Files
from kubeprod.spec.model import Environment


class AwsRenderer:
    """EKS production environment on AWS."""

    name: ClassVar = "aws"

    def render(self, env: Environment) -> Files:
        aws_of(env)
        return {
            "versions.tf": versions_tf(env),
            "providers.tf": providers_tf(env),
            "locals.tf": locals_tf(env),
            "network.tf": network_tf(env),
            "kms.tf": kms_tf(env),
            "iam.tf": iam_tf(env),
            "eks.tf": eks_tf(env),
            "nodes.tf": nodes_tf(env),
            "addons.tf": addons_tf(env),
            "autoscaler.tf": autoscaler_tf(env),
            "observability.tf": observability_tf(env),
            # DR-1 / DR-4: the vault's key has the default key policy.
            "backup.tf": backup_blocks(env, key_policy_for("default", env)),
            "outputs.tf": outputs_tf(env),
        }
