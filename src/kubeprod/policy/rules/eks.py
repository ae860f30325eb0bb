"""EKS constraints from AWS's documentation and the reference modules, judged inside the
rule of the requirement each protects (each function's docstring names its source).

The production review of the rendered modules (shared/design/cloud-review.md, AWS
section) found each of these; docs/aws.md records the choices.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from kubeprod.policy.hcl_expr import Scope, evaluate_raw
from kubeprod.policy.plan_model import UNKNOWN, Resource
from kubeprod.policy.rules.base import Ctx, blocks
from kubeprod.policy.rules.lookup import AUTO_MODE, aws_node_shapes, subnet_zones
from kubeprod.policy.static import _unquote, parse_directory


def workload_groups_per_zone(ctx: Ctx) -> None:
    """K8S-3 / CHR-6: an autoscaled workload node group stays in one zone, and several
    zonal groups are balanced.

    Source: EKS user guide, "Create a managed node group" ("If you are running a stateful
    application across multiple Availability Zones that is backed by Amazon EBS volumes and
    using the Kubernetes Cluster Autoscaler, you should configure multiple node groups,
    each scoped to a single Availability Zone. In addition, you should enable the
    --balance-similar-node-groups feature."), and kubernetes/autoscaler
    `cluster-autoscaler/cloudprovider/aws/README.md` (an ASG spanning zones cannot be
    asked for a node in the zone of a pending pod's EBS volume).
    """
    scaled = []
    for shape in aws_node_shapes(ctx.model):
        if shape.system or shape.shape == AUTO_MODE:
            continue  # Auto Mode places nodes itself, per zone, from its NodePools
        low, high = shape.min(), shape.max()
        if isinstance(low, int) and isinstance(high, int) and low == high:
            continue  # a fixed-size group is never scaled, so it may span zones
        scaled.append(shape)
        ids = shape.subnets()
        zones = subnet_zones(ctx.model, ids)
        count = len(zones) if zones is not UNKNOWN else None
        if count is None and isinstance(ids, list) and len(set(ids)) == 1:
            count = 1  # one subnet is one zone
        attr = shape.subnets_attr
        if count is None:
            ctx.unknown(shape.res, f"the zones of {attr} are known only after apply", attr)
        elif count == 1:
            ctx.ok(shape.res, "the autoscaled workload group is in one zone", attr)
        else:
            ctx.fail(
                shape.res,
                f"the autoscaled workload group spans {count} zones, so the autoscaler "
                "cannot add a node in the zone of a pending pod's EBS volume",
                attr,
                "one workload node group per zone (for_each over the zones, subnet_ids = "
                "[that zone's private subnet]) with --balance-similar-node-groups",
            )
    flags = ctx.model.outputs.get("cluster_autoscaler_flags")
    if len(scaled) > 1 and isinstance(flags, list):
        balance = [f for f in flags if isinstance(f, str) and "balance-similar-node-groups" in f]
        if balance and not balance[-1].endswith("=false"):
            ctx.ok(None, "--balance-similar-node-groups is on", at=_FLAGS)
        else:
            ctx.fail(
                None,
                "several zonal workload groups without --balance-similar-node-groups: the "
                "autoscaler would fill one zone first",
                "cluster_autoscaler_flags",
                "--balance-similar-node-groups=true",
                at=_FLAGS,
            )


_FLAGS = ("output.cluster_autoscaler_flags", None, None)


AUTOSCALING_SERVICE = "autoscaling.amazonaws.com"


def _volume_keys(ctx: Ctx) -> list[Resource]:
    """Resources that make node or persistent volumes use a customer-managed key."""
    users = [
        lt
        for lt in ctx.model.of("aws_launch_template")
        for m in blocks(lt.get("block_device_mappings"))
        for ebs in blocks(m.get("ebs"))
        if ebs.get("kms_key_id") not in (None, "")
    ]
    return users + ctx.model.of("aws_ebs_default_kms_key")


def autoscaling_role_managed(ctx: Ctx) -> None:
    """K8S-6: the Auto Scaling service-linked role that must use the node volumes' key is
    managed by the configuration, so it exists before the key policy names it.

    Source: AWS KMS developer guide, key policies ("the principal ... must exist", else
    CreateKey / PutKeyPolicy fail with MalformedPolicyDocumentException); EC2 Auto Scaling
    user guide, "Required AWS KMS key policy for use with encrypted volumes" (the key policy
    names AWSServiceRoleForAutoScaling); terraform-aws-modules/terraform-aws-eks
    `tests/eks-managed-node-group/main.tf` names that role in its EBS key policy without
    creating it, which fails in a fresh account (cloud-review.md, AWS item 1).
    """
    users = _volume_keys(ctx)
    if not users or not ctx.model.of("aws_eks_node_group"):
        return
    roles = [
        r
        for r in ctx.model.of("aws_iam_service_linked_role")
        if r.get("aws_service_name") == AUTOSCALING_SERVICE
    ]
    if roles:
        ctx.ok(roles[0], "the Auto Scaling service-linked role is managed here", "aws_service_name")
    else:
        ctx.fail(
            users[0],
            "node volumes use a customer-managed key whose policy must name "
            "AWSServiceRoleForAutoScaling, which this configuration neither creates nor "
            "imports: key creation fails in an account without it",
            "aws_iam_service_linked_role",
            f'add aws_iam_service_linked_role {{ aws_service_name = "{AUTOSCALING_SERVICE}" }} '
            "(with an import block where the account already has it) and refer to its arn "
            "in the key policy",
        )


def ebs_default_encryption(ctx: Ctx) -> None:
    """SEC-3 "all data": persistent volumes (EBS CSI) are encrypted with the CMK.

    Source: Amazon EBS user guide, "Encryption by default" (EnableEbsEncryptionByDefault and
    ModifyEbsDefaultKmsKeyId: every new volume of the account and region is encrypted with
    that key); terraform resources aws_ebs_encryption_by_default / aws_ebs_default_kms_key
    (cloud-review.md, AWS item 3).
    """
    if not ctx.model.of("aws_eks_cluster"):
        return
    switches = ctx.model.of("aws_ebs_encryption_by_default")
    if not switches:
        ctx.fail(
            None,
            "EBS encryption by default is not enabled: persistent volumes from a StorageClass "
            "without encrypted: true are written in clear",
            "aws_ebs_encryption_by_default",
            "add aws_ebs_encryption_by_default { enabled = true }",
        )
    for s in switches:
        ctx.check(s, "enabled", lambda v: v is not False, "true", missing_ok=True)
    keys = ctx.model.of("aws_ebs_default_kms_key")
    if not keys:
        ctx.fail(
            None,
            "no aws_ebs_default_kms_key: default-encrypted volumes use the AWS-managed aws/ebs "
            "key, not the customer-managed key",
            "aws_ebs_default_kms_key",
            "add aws_ebs_default_kms_key { key_arn = <the volumes' CMK> }",
        )
    for k in keys:  # a reference known only after apply is a key ARN
        if k.get("key_arn") in (None, ""):
            ctx.fail(k, "key_arn is unset", "key_arn", "the volumes' CMK ARN")
        else:
            ctx.ok(k, "default EBS key set to a customer-managed key", "key_arn")


def _statements(policy: Any) -> list[dict[str, Any]] | None:
    if not isinstance(policy, str):
        return None
    try:
        doc = json.loads(policy)
    except ValueError:
        return None
    found = doc.get("Statement", []) if isinstance(doc, dict) else []
    return [s for s in ([found] if isinstance(found, dict) else found) if isinstance(s, dict)]


def _actions(stmt: dict[str, Any]) -> set[str]:
    acts = stmt.get("Action", [])
    return {a.lower() for a in ([acts] if isinstance(acts, str) else acts) if isinstance(a, str)}


def _document_statements(model: Any) -> list[dict[str, Any]]:
    """Statements of the configuration's data "aws_iam_policy_document" blocks, in policy
    JSON shape: their JSON is known only after apply, their literal actions before."""
    if model.config_dir is None:
        return []

    try:
        parsed = parse_directory(model.config_dir)  # parsed once per run, shared
    except Exception:  # an unparsable file is reported by the model's own reading
        return []
    out = []
    for body in parsed.values():
        for data in body.get("data", []):
            for rtype, named in data.items():
                if _unquote(rtype) != "aws_iam_policy_document":
                    continue
                for doc in named.values():
                    for stmt in doc.get("statement", []):
                        listed = evaluate_raw(stmt.get("actions", []), Scope())
                        actions = (
                            [a for a in listed if isinstance(a, str)]
                            if isinstance(listed, list)
                            else []
                        )
                        conditions = {
                            str(evaluate_raw(c.get("variable", ""), Scope())): evaluate_raw(
                                c.get("values"), Scope()
                            )
                            for c in stmt.get("condition", [])
                        }
                        out.append({"Action": actions, "Condition": conditions})
    return out


def ebs_csi_key_access(ctx: Ctx) -> None:
    """SEC-3: the EBS CSI driver may use the volumes' CMK (else encrypted PVCs fail).

    Source: EKS user guide, "Create an Amazon EBS CSI driver IAM role" (with a custom KMS
    key: kms:CreateGrant / ListGrants / RevokeGrant with kms:GrantIsForAWSResource, and
    kms:Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*, DescribeKey); terraform-aws-modules
    iam `iam-role-for-service-accounts-eks` `ebs_csi_kms_cmk_ids` (cloud-review.md, item 3).
    """
    csi = [a for a in ctx.model.of("aws_eks_addon") if a.get("addon_name") == "aws-ebs-csi-driver"]
    if not csi or not _volume_keys(ctx):
        return
    policies = ctx.model.of("aws_iam_role_policy", "aws_iam_policy")
    grants = use = False
    unknown = None
    known: list[dict[str, Any]] = []
    for p in policies:
        statements = _statements(p.get("policy"))
        if statements is None:
            unknown = unknown or p
        else:
            known += statements
    if unknown is not None:
        known += _document_statements(ctx.model)
        unknown = unknown if ctx.model.config_dir is None else None
    for stmt in known:
        acts = _actions(stmt)
        condition = json.dumps(stmt.get("Condition", {}))
        if "kms:creategrant" in acts and "kms:GrantIsForAWSResource" in condition:
            grants = True
        if {"kms:decrypt"} <= acts and acts & {"kms:generatedatakey*", "kms:*"}:
            use = True
    if grants and use:
        ctx.ok(csi[0], "an IAM policy lets the EBS CSI driver use the volume key")
    elif unknown is not None:
        ctx.unknown(unknown, "IAM policy documents are known only after apply", "policy")
    else:
        ctx.fail(
            csi[0],
            "volumes use a customer-managed key, but no IAM policy here allows kms:CreateGrant "
            "(for AWS resources) and data-key use: the EBS CSI driver cannot create them",
            "pod_identity_association.role_arn",
            "attach to the driver's role a policy with kms:CreateGrant/ListGrants/RevokeGrant "
            "(Condition Bool kms:GrantIsForAWSResource = true) and kms:Encrypt, Decrypt, "
            "ReEncrypt*, GenerateDataKey*, DescribeKey on the key",
        )


def _written(res: Resource, attribute: str) -> bool | None:
    """Whether `attribute` is written in the resource's block of the configuration (None:
    the configuration is not at hand). An optional-and-computed attribute left out shows
    in a plan as a value AWS chose, so only the configuration tells "pinned" apart."""
    if not res.file or not res.line:
        return None
    try:
        lines = Path(res.file).read_text(encoding="utf-8").splitlines()[res.line - 1 :]
    except OSError:
        return None
    block = []
    for line in lines[1:]:
        if line.startswith("}"):
            break
        block.append(line)
    return any(re.match(rf"\s*{re.escape(attribute)}\s*=", line) for line in block)


def _judge_written(ctx: Ctx, res: Resource, attribute: str, message: str, fix: str) -> None:
    written = _written(res, attribute)
    if written is None:
        ctx.unknown(res, f"whether {attribute} is pinned needs the configuration", attribute)
    elif written:
        ctx.ok(res, f"{attribute} is set", attribute)
    else:
        ctx.fail(res, message, attribute, fix)


def node_ami_release_tracked(ctx: Ctx) -> None:
    """SEC-4: managed node groups move to the AMI release AWS publishes for the cluster
    version; without release_version a group stays on the AMI it was created with.

    Source: terraform-aws-modules/terraform-aws-eks `modules/eks-managed-node-group/main.tf`
    (`use_latest_ami_release_version`, `data "aws_ssm_parameter" "ami"` on
    /aws/service/eks/optimized-ami/<version>/.../recommended/release_version); EKS user guide,
    "Update a managed node group" (a new AMI release is applied by updating the release
    version) (cloud-review.md, AWS item 2).
    """
    custom = {
        lt.name
        for lt in ctx.model.of("aws_launch_template")
        if lt.get("image_id") not in (None, "")
    }
    for g in ctx.model.of("aws_eks_node_group"):
        if g.get("ami_type") == "CUSTOM" or (custom and g.name in custom):
            continue  # a custom AMI is patched by whoever builds it (SEC-4's ami_type check)
        _judge_written(
            ctx,
            g,
            "release_version",
            "no release_version: the group stays on the AMI release it was created with",
            "release_version = nonsensitive(data.aws_ssm_parameter.<ami>.value) from "
            "/aws/service/eks/optimized-ami/<version>/<ami path>/recommended/release_version",
        )


def addon_versions_pinned(ctx: Ctx) -> None:
    """SEC-4: EKS add-on versions are pinned, so they move in a reviewed plan, not whenever
    EKS picks a default at creation and never again.

    Source: terraform-aws-modules/terraform-aws-eks `main.tf` (`data "aws_eks_addon_version"`
    resolving `addon_version` for the cluster version); EKS user guide, "Update an Amazon EKS
    add-on" (add-ons are not updated automatically) (cloud-review.md, AWS item 4).
    """
    for a in ctx.model.of("aws_eks_addon"):
        _judge_written(
            ctx,
            a,
            "addon_version",
            "no addon_version: the add-on keeps whatever version EKS chose at creation and "
            "never moves with the cluster",
            "addon_version = data.aws_eks_addon_version.<name>.version (kubernetes_version = "
            "the cluster's version)",
        )


def vpc_cni_own_identity(ctx: Ctx) -> None:
    """SEC-5: the VPC CNI (aws-node) gets its ENI/IP permissions from its own role, not
    from the node role every process on the node shares.

    Source: EKS user guide, "Configure the Amazon VPC CNI plugin to use IRSA" / custom
    networking tutorial ("attach the AmazonEKS_CNI_Policy to a separate IAM role" for the
    aws-node service account); EKS Pod Identity supports the VPC CNI (cloud-review.md, AWS
    item 5).
    """
    cni = [a for a in ctx.model.of("aws_eks_addon") if a.get("addon_name") == "vpc-cni"]
    if not cni:
        return
    associations = [
        p
        for p in ctx.model.of("aws_eks_pod_identity_association")
        if p.get("service_account") == "aws-node"
    ]
    for a in cni:
        inline = [
            b
            for b in blocks(a.get("pod_identity_association"))
            if b.get("service_account") == "aws-node"
        ]
        irsa = a.get("service_account_role_arn") not in (None, "")
        if associations or inline or irsa:
            ctx.ok(a, "aws-node has its own IAM role", "pod_identity_association")
        else:
            ctx.fail(
                a,
                "aws-node has no role of its own: the VPC CNI's permissions must sit on the "
                "node role, where every pod-reachable process on the node shares them",
                "pod_identity_association",
                'an aws_eks_pod_identity_association (namespace "kube-system", service_account '
                '"aws-node") with a role holding AmazonEKS_CNI_Policy, and that policy off '
                "the node role",
            )


EKS_ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"


def _raw(res: Resource, attribute: str) -> str:
    """The text of `attribute = ...` in the resource's block ("" when not at hand)."""
    if not res.file or not res.line:
        return ""
    try:
        lines = Path(res.file).read_text(encoding="utf-8").splitlines()[res.line :]
    except OSError:
        return ""
    for line in lines:
        if line.startswith("}"):
            break
        if re.match(rf"\s*{re.escape(attribute)}\s*=", line):
            return line
    return ""


def cluster_admins(ctx: Ctx) -> None:
    """K8S-5: an EKS cluster with access entries only (authentication mode API) and no
    creator admin admits nobody unless an access entry holds the cluster admin policy.

    Source: EKS user guide, "Grant IAM users access to Kubernetes with EKS access entries"
    (`bootstrap_cluster_creator_admin_permissions`, access policy
    AmazonEKSClusterAdminPolicy with a cluster access scope); terraform-aws-modules/eks
    examples (`enable_cluster_creator_admin_permissions = true` or `access_entries`)
    (cloud-review.md, AWS item 6).
    """
    associations = [
        a
        for a in ctx.model.of("aws_eks_access_policy_association")
        if any(s.get("type") == "cluster" for s in blocks(a.get("access_scope")))
        and (
            str(a.get("policy_arn") or "").endswith(EKS_ADMIN_POLICY)
            or (a.get("policy_arn") is UNKNOWN and EKS_ADMIN_POLICY in _raw(a, "policy_arn"))
        )
    ]
    for c in ctx.model.of("aws_eks_cluster"):
        mode = c.get("access_config.0.authentication_mode")
        creator = c.get("access_config.0.bootstrap_cluster_creator_admin_permissions")
        if mode == "CONFIG_MAP" or creator is True:
            ctx.ok(c, "the identity that creates the cluster is its admin", "access_config")
        elif associations:
            ctx.ok(associations[0], f"{EKS_ADMIN_POLICY} on the cluster scope", "policy_arn")
        else:
            ctx.fail(
                c,
                "access entries only, no creator admin and no access entry with "
                f"{EKS_ADMIN_POLICY}: nobody can administer the cluster",
                "access_config.0.bootstrap_cluster_creator_admin_permissions",
                "list admins in the spec's access.cluster_admin_arns (an access entry and "
                f"{EKS_ADMIN_POLICY} with access_scope type cluster for each)",
            )
