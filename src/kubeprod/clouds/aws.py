"""AWS: Environment -> an EKS production root module.

Files are grouped by concern (versions, network, kms, iam, eks, nodes, addons,
observability, backup, outputs). Zones drive `for_each` maps in `locals`, so a
reviewer reads one block per concern, not three copies.
"""

from __future__ import annotations

from typing import ClassVar

from kubeprod.clouds.aws_iam import (
    ACCOUNT,
    MANAGED_POLICY,
    PARTITION,
    key_policy,
    key_statement,
    policy_document,
    root_admin_statement,
    statement,
)
from kubeprod.clouds.base import Files, section
from kubeprod.clouds.tags import tag
from kubeprod.hcl import Block, Call, Comment
from kubeprod.hcl.shorthand import B, D, E, R, interp, lifecycle
from kubeprod.requirements import Req
from kubeprod.spec import capacity
from kubeprod.spec.model import Environment, duration_minutes

PROVIDER_CONSTRAINT = "~> 5.100"
TERRAFORM_CONSTRAINT = ">= 1.10.0"
NODE_AMI_TYPE = "AL2023_x86_64_STANDARD"
# ami_type -> its part of the SSM parameter path AWS publishes the release under
# (terraform-aws-eks modules/eks-managed-node-group, ssm_ami_type_to_ssm_param)
AMI_SSM_PATH = {
    "AL2023_x86_64_STANDARD": "amazon-linux-2023/x86_64/standard",
    "AL2023_ARM_64_STANDARD": "amazon-linux-2023/arm64/standard",
}


class AwsRenderer:
    """EKS production environment on AWS."""

    name: ClassVar = "aws"

    def render(self, env: Environment) -> Files:
        section(env, "aws")
        return {
            "versions.tf": self.versions(env),
            "providers.tf": self.providers(env),
            "locals.tf": self.locals(env),
            "network.tf": self.network(env),
            "kms.tf": self.kms(env),
            "iam.tf": self.iam(env),
            "eks.tf": self.eks(env),
            "nodes.tf": self.nodes(env),
            "addons.tf": self.addons(env),
            "autoscaler.tf": self.autoscaler(env),
            "observability.tf": self.observability(env),
            "backup.tf": self.backup(env),
            "outputs.tf": self.outputs(env),
        }

    # -- versions and providers ---------------------------------------------------------

    def versions(self, env: Environment) -> list[Block | Comment]:
        aws = section(env, "aws")
        backend = B(
            "backend",
            "s3",
            key=f"{env.name}/aws/terraform.tfstate",
            region=aws.region,
            encrypt=True,
            use_lockfile=True,
        )
        return [
            Comment(
                "DR-2: state in S3 (versioned, KMS-encrypted, S3-native locking).\n"
                "bucket and kms_key_id come from backend.s3.tfbackend, written by "
                "`kubeprod bootstrap`."
            ),
            B(
                "terraform",
                required_version=TERRAFORM_CONSTRAINT,
                required_providers=B(
                    "required_providers",
                    aws={"source": "hashicorp/aws", "version": PROVIDER_CONSTRAINT},
                ),
                backend=backend,
            ),
        ]

    def providers(self, env: Environment) -> list[Block | Comment]:
        aws = section(env, "aws")
        provider = B("provider", "aws", region=aws.region)
        if aws.account_id:
            provider.set(allowed_account_ids=[aws.account_id])
        provider.add(B("default_tags", tags={**env.tags, "kubeprod-environment": env.name}))
        return [
            provider,
            D("aws_caller_identity", "current"),
            D("aws_partition", "current"),
        ]

    def locals(self, env: Environment) -> list[Block | Comment]:
        aws = section(env, "aws")
        net = env.network
        pods = (
            capacity.split_pod_cidr(net.pod_cidr, len(aws.zones))
            if net.pod_ip_mode == "secondary-cidr" and net.pod_cidr
            else [None] * len(aws.zones)
        )
        zones = {
            zone: {
                k: v
                for k, v in (("public", pub), ("private", priv), ("pods", pod))
                if v is not None
            }
            for zone, pub, priv, pod in zip(
                aws.zones, net.public_subnets, net.private_subnets, pods, strict=True
            )
        }
        return [
            Comment("NET-5: zones are named in the spec, so list order can never move them."),
            B(
                "locals",
                name=env.name,
                cluster_name=env.name,
                kubernetes_version=env.kubernetes.version,
                zones=zones,
                private_subnet_ids=E(
                    "[for zone in keys(local.zones) : aws_subnet.private[zone].id]"
                ),
            ),
        ]

    # -- network ------------------------------------------------------------------------

    def network(self, env: Environment) -> list[Block | Comment]:
        net = env.network
        blocks: list[Block | Comment] = [
            tag(Req.NET_1, note="the VPC holds the spec's address range (network.vpc_cidr)."),
            R(
                "aws_vpc",
                "this",
                cidr_block=net.vpc_cidr,
                enable_dns_support=True,
                enable_dns_hostnames=True,
                tags={"Name": E("local.name")},
            ),
            Comment("No rules: the default security group denies everything."),
            R("aws_default_security_group", "this", vpc_id=E("aws_vpc.this.id")),
            R(
                "aws_internet_gateway",
                "this",
                vpc_id=E("aws_vpc.this.id"),
                tags={"Name": E("local.name")},
            ),
            Comment("NET-2: public subnets hold the NAT gateways and public load balancers."),
            R(
                "aws_subnet",
                "public",
                for_each=E("local.zones"),
                vpc_id=E("aws_vpc.this.id"),
                availability_zone=E("each.key"),
                cidr_block=E("each.value.public"),
                map_public_ip_on_launch=False,
                tags={
                    "Name": interp("${local.name}-public-${each.key}"),
                    "kubernetes.io/role/elb": "1",
                },
            ),
            Comment("NET-3: private subnets hold the nodes."),
            R(
                "aws_subnet",
                "private",
                for_each=E("local.zones"),
                vpc_id=E("aws_vpc.this.id"),
                availability_zone=E("each.key"),
                cidr_block=E("each.value.private"),
                tags={
                    "Name": interp("${local.name}-private-${each.key}"),
                    "kubernetes.io/role/internal-elb": "1",
                },
            ),
            R(
                "aws_route_table",
                "public",
                vpc_id=E("aws_vpc.this.id"),
                tags={"Name": interp("${local.name}-public")},
            ),
            R(
                "aws_route",
                "public_internet",
                route_table_id=E("aws_route_table.public.id"),
                destination_cidr_block="0.0.0.0/0",
                gateway_id=E("aws_internet_gateway.this.id"),
            ),
            R(
                "aws_route_table_association",
                "public",
                for_each=E("aws_subnet.public"),
                subnet_id=E("each.value.id"),
                route_table_id=E("aws_route_table.public.id"),
            ),
            Comment(
                "CHR-5 / NET-4: one Elastic IP, NAT gateway and private route table per\n"
                "zone, so losing a zone never cuts another zone's egress."
            ),
            R(
                "aws_eip",
                "nat",
                for_each=E("local.zones"),
                domain="vpc",
                tags={"Name": interp("${local.name}-nat-${each.key}")},
            ),
            R(
                "aws_nat_gateway",
                "this",
                for_each=E("local.zones"),
                allocation_id=E("aws_eip.nat[each.key].id"),
                subnet_id=E("aws_subnet.public[each.key].id"),
                tags={"Name": interp("${local.name}-${each.key}")},
                depends_on=E("[aws_internet_gateway.this]"),
            ),
            R(
                "aws_route_table",
                "private",
                for_each=E("local.zones"),
                vpc_id=E("aws_vpc.this.id"),
                tags={"Name": interp("${local.name}-private-${each.key}")},
            ),
            R(
                "aws_route",
                "private_nat",
                for_each=E("local.zones"),
                route_table_id=E("aws_route_table.private[each.key].id"),
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=E("aws_nat_gateway.this[each.key].id"),
            ),
            R(
                "aws_route_table_association",
                "private",
                for_each=E("local.zones"),
                subnet_id=E("aws_subnet.private[each.key].id"),
                route_table_id=E("aws_route_table.private[each.key].id"),
            ),
        ]
        if net.pod_ip_mode == "secondary-cidr" and net.pod_cidr:
            blocks += [
                Comment(
                    "NET-6: pods take addresses from a secondary CIDR (VPC CNI custom\n"
                    "networking), so the private /24s only hold node addresses."
                ),
                R(
                    "aws_vpc_ipv4_cidr_block_association",
                    "pods",
                    vpc_id=E("aws_vpc.this.id"),
                    cidr_block=net.pod_cidr,
                ),
                R(
                    "aws_subnet",
                    "pods",
                    for_each=E("local.zones"),
                    vpc_id=E("aws_vpc_ipv4_cidr_block_association.pods.vpc_id"),
                    availability_zone=E("each.key"),
                    cidr_block=E("each.value.pods"),
                    tags={"Name": interp("${local.name}-pods-${each.key}")},
                ),
                R(
                    "aws_route_table_association",
                    "pods",
                    for_each=E("local.zones"),
                    subnet_id=E("aws_subnet.pods[each.key].id"),
                    route_table_id=E("aws_route_table.private[each.key].id"),
                ),
            ]
        if net.flow_logs:
            blocks += [
                R(
                    "aws_cloudwatch_log_group",
                    "flow_logs",
                    name=interp("/aws/vpc/${local.name}/flow-logs"),
                    retention_in_days=env.logging.retention_days,
                    kms_key_id=E("aws_kms_key.logs.arn"),
                ),
                R(
                    "aws_flow_log",
                    "this",
                    vpc_id=E("aws_vpc.this.id"),
                    traffic_type="ALL",
                    log_destination_type="cloud-watch-logs",
                    log_destination=E("aws_cloudwatch_log_group.flow_logs.arn"),
                    iam_role_arn=E("aws_iam_role.flow_logs.arn"),
                    max_aggregation_interval=60,
                ),
            ]
        return blocks

    # -- keys ---------------------------------------------------------------------------

    def kms(self, env: Environment) -> list[Block | Comment]:
        enc = env.encryption
        blocks: list[Block | Comment] = [
            Comment(
                "SEC-8 / SEC-3: customer-managed keys, rotated, with explicit policies.\n"
                "CHR-1: a deleted key takes its data with it, so keys cannot be "
                "destroyed by accident."
            ),
        ]
        keys = {
            "eks": ("EKS secrets envelope encryption", "default"),
            "ebs": ("EBS volumes of the nodes", "ebs"),
            "logs": ("CloudWatch log groups", "logs"),
            "sns": ("SNS alert topic", "sns"),
            "backup": ("AWS Backup vault", "default"),
        }
        for key, (purpose, policy) in keys.items():
            blocks += [
                R(
                    "aws_kms_key",
                    key,
                    description=interp(f"${{local.name}}: {purpose}"),
                    enable_key_rotation=enc.key_rotation,
                    deletion_window_in_days=enc.key_deletion_window_days,
                    policy=self._key_policy(policy, env),
                    lifecycle=lifecycle(prevent_destroy=True),
                ),
                R(
                    "aws_kms_alias",
                    key,
                    name=interp(f"alias/${{local.name}}-{key}"),
                    target_key_id=E(f"aws_kms_key.{key}.key_id"),
                ),
            ]
        return blocks + self._autoscaling_role(env) + self._volume_encryption(env)

    @staticmethod
    def _autoscaling_role(env: Environment) -> list[Block | Comment]:
        """Item 1 of the production review: a key policy may only name principals that exist."""
        mode = env.clouds.aws.autoscaling_service_linked_role if env.clouds.aws else "create"
        blocks: list[Block | Comment] = [
            Comment(
                "SEC-3: Auto Scaling launches the nodes, so its service-linked role must use\n"
                "the EBS key, and KMS refuses a key policy naming a role that does not exist\n"
                "(a fresh account has none). The module manages the role and the key policy\n"
                "refers to it, so the role always comes first. Spec switch:\n"
                f"clouds.aws.autoscaling_service_linked_role = {mode} (docs/aws.md)."
            ),
            R(
                "aws_iam_service_linked_role",
                "autoscaling",
                aws_service_name="autoscaling.amazonaws.com",
                lifecycle=lifecycle(prevent_destroy=True),
            ),
        ]
        if mode == "import":
            blocks.append(
                B(
                    "import",
                    to=E("aws_iam_service_linked_role.autoscaling"),
                    id=interp(
                        f"arn:${{{PARTITION}}}:iam::${{{ACCOUNT}}}:role/aws-service-role/"
                        "autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
                    ),
                )
            )
        return blocks

    @staticmethod
    def _volume_encryption(env: Environment) -> list[Block | Comment]:
        """SEC-3 "all data": every new EBS volume in the region (persistent volumes too)."""
        if not env.encryption.volumes:
            return []
        return [
            Comment(
                "SEC-3: every new EBS volume of the account in this region is encrypted with\n"
                "the CMK, persistent volumes included, whatever a StorageClass says."
            ),
            R("aws_ebs_encryption_by_default", "this", enabled=True),
            R(
                "aws_ebs_default_kms_key",
                "this",
                key_arn=E("aws_kms_key.ebs.arn"),
                depends_on=E("[aws_ebs_encryption_by_default.this]"),
            ),
        ]

    def _key_policy(self, kind: str, env: Environment) -> Call:
        region = env.clouds.aws.region if env.clouds.aws else ""
        statements = [root_admin_statement()]
        if kind == "logs":
            statements.append(
                key_statement(
                    "CloudWatchLogsUse",
                    [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    {"Service": f"logs.{region}.amazonaws.com"},
                    {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": interp(
                                f"arn:${{{PARTITION}}}:logs:{region}:${{{ACCOUNT}}}:log-group:*"
                            )
                        }
                    },
                )
            )
        elif kind == "ebs":
            statements.append(
                key_statement(
                    "AutoScalingUsesKeyForNodeVolumes",
                    [
                        "kms:Encrypt",
                        "kms:Decrypt",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:DescribeKey",
                        "kms:CreateGrant",
                    ],
                    {"AWS": E("aws_iam_service_linked_role.autoscaling.arn")},
                )
            )
        elif kind == "sns":
            statements.append(
                key_statement(
                    "CloudWatchAlarmsPublish",
                    ["kms:Decrypt", "kms:GenerateDataKey*"],
                    {"Service": "cloudwatch.amazonaws.com"},
                )
            )
        return key_policy(*statements)

    # -- IAM ----------------------------------------------------------------------------

    def _role(
        self, name: str, service: str, policies: list[str], description: str
    ) -> list[Block | Comment]:
        doc = policy_document(
            f"assume_{name}",
            statement("AssumeRole", ["sts:AssumeRole", "sts:TagSession"], ("Service", [service])),
        )
        role = R(
            "aws_iam_role",
            name,
            name=interp(f"${{local.name}}-{name.replace('_', '-')}"),
            description=description,
            assume_role_policy=E(f"data.aws_iam_policy_document.assume_{name}.json"),
        )
        blocks: list[Block | Comment] = [doc, role]
        if policies:
            blocks.append(
                R(
                    "aws_iam_role_policy_attachment",
                    name,
                    for_each=E("toset([" + ", ".join(f'"{p}"' for p in policies) + "])"),
                    role=E(f"aws_iam_role.{name}.name"),
                    policy_arn=interp(MANAGED_POLICY + "${each.value}"),
                )
            )
        return blocks

    def iam(self, env: Environment) -> list[Block | Comment]:
        blocks: list[Block | Comment] = [
            Comment(
                "Least privilege: each role trusts one service and holds only the AWS\n"
                "managed policies EKS documents for it, plus scoped inline policies."
            ),
        ]
        blocks += self._role(
            "cluster", "eks.amazonaws.com", ["AmazonEKSClusterPolicy"], "EKS control plane"
        )
        blocks += [
            policy_document(
                "cluster_kms",
                statement(
                    "EnvelopeEncryption",
                    ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"],
                    resources=[E("aws_kms_key.eks.arn")],
                ),
            ),
            R(
                "aws_iam_role_policy",
                "cluster_kms",
                name="secrets-envelope-encryption",
                role=E("aws_iam_role.cluster.id"),
                policy=E("data.aws_iam_policy_document.cluster_kms.json"),
            ),
        ]
        blocks += self._role(
            "node",
            "ec2.amazonaws.com",
            ["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"],
            "EKS managed node groups",
        )
        blocks += [
            Comment(
                "The VPC CNI's ENI and IP permissions belong to aws-node alone, not to every\n"
                "process on a node (EKS user guide: attach AmazonEKS_CNI_Policy to a separate\n"
                "role for the aws-node service account; here through EKS Pod Identity)."
            ),
            *self._role(
                "vpc_cni",
                "pods.eks.amazonaws.com",
                ["AmazonEKS_CNI_Policy"],
                "VPC CNI aws-node (EKS Pod Identity)",
            ),
        ]
        blocks += self._role(
            "ebs_csi",
            "pods.eks.amazonaws.com",
            ["service-role/AmazonEBSCSIDriverPolicy"],
            "EBS CSI driver (EKS Pod Identity)",
        )
        blocks += [
            Comment(
                "SEC-3: the EBS CSI driver creates encrypted volumes with the CMK, so its role\n"
                "may use the key and create grants for EC2 only (EKS user guide, Amazon EBS CSI\n"
                "driver IAM role, custom KMS key)."
            ),
            R(
                "aws_iam_role_policy",
                "ebs_csi_kms",
                name="ebs-volumes-cmk",
                role=E("aws_iam_role.ebs_csi.id"),
                policy=Call(
                    "jsonencode",
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "GrantsForEc2Only",
                                "Effect": "Allow",
                                "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
                                "Resource": [E("aws_kms_key.ebs.arn")],
                                "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                            },
                            {
                                "Sid": "UseTheVolumeKey",
                                "Effect": "Allow",
                                "Action": [
                                    "kms:Encrypt",
                                    "kms:Decrypt",
                                    "kms:ReEncrypt*",
                                    "kms:GenerateDataKey*",
                                    "kms:DescribeKey",
                                ],
                                "Resource": [E("aws_kms_key.ebs.arn")],
                            },
                        ],
                    },
                ),
            ),
        ]
        blocks += self._role(
            "cloudwatch_agent",
            "pods.eks.amazonaws.com",
            ["CloudWatchAgentServerPolicy"],
            "Container Insights agent (EKS Pod Identity)",
        )
        blocks += self._role(
            "backup",
            "backup.amazonaws.com",
            [
                "service-role/AWSBackupServiceRolePolicyForBackup",
                "service-role/AWSBackupServiceRolePolicyForRestores",
            ],
            "AWS Backup of the cluster",
        )
        if env.network.flow_logs:
            blocks += self._role(
                "flow_logs", "vpc-flow-logs.amazonaws.com", [], "VPC flow logs delivery"
            )
            blocks += [
                policy_document(
                    "flow_logs",
                    statement(
                        "DeliverFlowLogs",
                        [
                            "logs:CreateLogStream",
                            "logs:PutLogEvents",
                            "logs:DescribeLogGroups",
                            "logs:DescribeLogStreams",
                        ],
                        resources=[
                            E("aws_cloudwatch_log_group.flow_logs.arn"),
                            interp("${aws_cloudwatch_log_group.flow_logs.arn}:*"),
                        ],
                    ),
                ),
                R(
                    "aws_iam_role_policy",
                    "flow_logs",
                    name="deliver-flow-logs",
                    role=E("aws_iam_role.flow_logs.id"),
                    policy=E("data.aws_iam_policy_document.flow_logs.json"),
                ),
            ]
        return blocks

    # -- the cluster --------------------------------------------------------------------

    def eks(self, env: Environment) -> list[Block | Comment]:
        api = env.api_endpoint
        vpc_config = B(
            "vpc_config",
            subnet_ids=E("local.private_subnet_ids"),
            endpoint_private_access=api.private,
            endpoint_public_access=api.public,
            public_access_cidrs=list(api.public_allowed_cidrs) if api.public else None,
        )
        cluster = R(
            "aws_eks_cluster",
            "this",
            name=E("local.cluster_name"),
            version=E("local.kubernetes_version"),
            role_arn=E("aws_iam_role.cluster.arn"),
            enabled_cluster_log_types=list(env.logging.control_plane),
            bootstrap_self_managed_addons=False,
        )
        cluster.add(
            vpc_config,
            B(
                "access_config",
                authentication_mode="API",
                bootstrap_cluster_creator_admin_permissions=False,
            ),
            B(
                "encryption_config",
                resources=["secrets"],
                provider=B("provider", key_arn=E("aws_kms_key.eks.arn")),
            ),
            B(
                "kubernetes_network_config",
                service_ipv4_cidr=env.network.service_cidr,
                ip_family="ipv4",
            ),
            B("upgrade_policy", support_type=env.kubernetes.support_type),
            B("zonal_shift_config", enabled=True),
            lifecycle(prevent_destroy=True),
        )
        cluster.set(
            depends_on=E(
                "[\n    aws_cloudwatch_log_group.cluster,\n"
                "    aws_iam_role_policy_attachment.cluster,\n  ]"
            )
        )
        blocks: list[Block | Comment] = [
            Comment(
                "K8S-7 / SEC-7: every control-plane log type, audit included, into a\n"
                "KMS-encrypted log group with retention. EKS writes to this exact name."
            ),
            R(
                "aws_cloudwatch_log_group",
                "cluster",
                name=interp("/aws/eks/${local.cluster_name}/cluster"),
                retention_in_days=env.logging.retention_days,
                kms_key_id=E("aws_kms_key.logs.arn"),
            ),
            Comment(
                "K8S-4 / K8S-5 / SEC-1 / SEC-2: private endpoint on; the public endpoint\n"
                "answers only the allow-list. SEC-8: secrets envelope-encrypted with a CMK.\n"
                "K8S-1: version pinned to N-1 in standard support. Access entries only\n"
                "(authentication mode API): no aws-auth ConfigMap. CHR-3: zonal shift on, so\n"
                "traffic can be moved away from an impaired zone (ARC zonal shift)."
            ),
            cluster,
            B(
                "resource",
                "aws_eks_access_entry",
                "admin",
                for_each=E("toset(var.cluster_admin_arns)"),
                cluster_name=E("aws_eks_cluster.this.name"),
                principal_arn=E("each.value"),
                type="STANDARD",
            ),
            B(
                "resource",
                "aws_eks_access_policy_association",
                "admin",
                for_each=E("toset(var.cluster_admin_arns)"),
                cluster_name=E("aws_eks_cluster.this.name"),
                principal_arn=E("aws_eks_access_entry.admin[each.value].principal_arn"),
                policy_arn=interp(
                    f"arn:${{{PARTITION}}}:eks::aws:cluster-access-policy/"
                    "AmazonEKSClusterAdminPolicy"
                ),
                access_scope=B("access_scope", type="cluster"),
            ),
            B(
                "variable",
                "cluster_admin_arns",
                description="IAM principals with cluster admin through EKS access entries",
                type=E("list(string)"),
                default=list(env.access.cluster_admin_arns),
            ),
        ]
        return blocks

    # -- nodes --------------------------------------------------------------------------

    def nodes(self, env: Environment) -> list[Block | Comment]:
        zones = env.clouds.aws.zones if env.clouds.aws else []
        work = env.node_groups.workload
        per_zone = {
            zone: {"min_size": low, "max_size": high, "desired_size": want}
            for zone, low, high, want in zip(
                zones,
                split_evenly(work.min_size, len(zones)),
                split_evenly(work.max_size, len(zones)),
                split_evenly(work.desired, len(zones)),
                strict=True,
            )
        }
        blocks: list[Block | Comment] = [
            tag(
                Req.K8S_3,
                Req.CHR_6,
                note="one workload group per zone, so Cluster Autoscaler adds a node\n"
                "in the zone a pending pod's EBS volume lives in (EKS user guide, managed node\n"
                "groups; cluster-autoscaler AWS README); --balance-similar-node-groups keeps\n"
                "the zones even. The spec's 3-20 is split over the zones.",
            ),
            B("locals", workload_scaling=per_zone),
            tag(
                Req.SEC_4,
                note="node groups follow the EKS-optimised AMI release AWS publishes for the\n"
                "cluster version. A new release shows in the next plan as an in-place node\n"
                "group update (a rolling replacement, max_unavailable = 1), reviewed, approved\n"
                "and applied inside a maintenance window like any other change.",
            ),
            D(
                "aws_ssm_parameter",
                "node_ami_release",
                name=interp(
                    "/aws/service/eks/optimized-ami/${local.kubernetes_version}/"
                    f"{AMI_SSM_PATH[NODE_AMI_TYPE]}/recommended/release_version"
                ),
            ),
            tag(
                Req.CHR_4,
                Req.CHR_2,
                note="on-demand only. Launch templates enforce IMDSv2 with hop limit 1\n"
                "(pods cannot reach node credentials) and CMK-encrypted gp3 volumes.",
            ),
        ]
        for group_name in ("system", "workload"):
            group = getattr(env.node_groups, group_name)
            blocks.append(self._launch_template(env, group_name, group.disk_size_gb))
            blocks.append(self._node_group(env, group_name))
        return blocks

    def autoscaler(self, env: Environment) -> list[Block | Comment]:
        from kubeprod.clouds.aws_autoscaler import autoscaler_tf

        return autoscaler_tf(self, env)

    def _launch_template(self, env: Environment, group_name: str, disk_size_gb: int) -> Block:
        return R(
            "aws_launch_template",
            group_name,
            name_prefix=interp(f"${{local.name}}-{group_name}-"),
            update_default_version=True,
            ebs_optimized=True,
            metadata_options=B(
                "metadata_options",
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=1,
                instance_metadata_tags="disabled",
            ),
            block_device_mappings=B(
                "block_device_mappings",
                device_name="/dev/xvda",
                ebs=B(
                    "ebs",
                    volume_size=disk_size_gb,
                    volume_type="gp3",
                    encrypted=env.encryption.volumes,
                    kms_key_id=E("aws_kms_key.ebs.arn"),
                    delete_on_termination=True,
                ),
            ),
            monitoring=B("monitoring", enabled=True),
            tag_specifications=B(
                "tag_specifications",
                resource_type="instance",
                tags={"Name": interp(f"${{local.name}}-{group_name}")},
            ),
        )

    def _node_group(self, env: Environment, group_name: str) -> Block:
        """The system group spans the zones; the workload group is one group per zone."""
        group = getattr(env.node_groups, group_name)
        zonal = group_name == "workload"
        node_group = R("aws_eks_node_group", group_name)
        if zonal:
            node_group.set(for_each=E("local.workload_scaling"))
        node_group.set(
            cluster_name=E("aws_eks_cluster.this.name"),
            node_group_name=interp("workload-${each.key}") if zonal else group_name,
            node_role_arn=E("aws_iam_role.node.arn"),
            subnet_ids=E(
                "[aws_subnet.private[each.key].id]" if zonal else "local.private_subnet_ids"
            ),
            version=E("aws_eks_cluster.this.version"),
            release_version=E("nonsensitive(data.aws_ssm_parameter.node_ami_release.value)"),
            ami_type=NODE_AMI_TYPE,
            capacity_type="ON_DEMAND",
            instance_types=[group.instance_types.aws],
            labels={"kubeprod.io/node-group": group_name, **group.labels},
        )
        scaling = (
            B(
                "scaling_config",
                min_size=E("each.value.min_size"),
                max_size=E("each.value.max_size"),
                desired_size=E("each.value.desired_size"),
            )
            if zonal
            else B(
                "scaling_config",
                min_size=group.min_size,
                max_size=group.max_size,
                desired_size=group.desired,
            )
        )
        node_group.add(
            tag(
                Req.K8S_2 if group_name == "system" else Req.K8S_3,
                Req.CHR_3,
                note="sized from the spec; the system group spans the zones' private subnets, "
                "the workload groups take one zone each.",
            ),
            scaling,
            tag(Req.SEC_4, note="rolling node updates, one node at a time."),
            B("update_config", max_unavailable=1),
            B(
                "launch_template",
                id=E(f"aws_launch_template.{group_name}.id"),
                version=E(f"aws_launch_template.{group_name}.latest_version"),
            ),
        )
        if group_name == "system":
            node_group.add(B("taint", key="CriticalAddonsOnly", value="true", effect="NO_SCHEDULE"))
        node_group.set(
            tags={
                "k8s.io/cluster-autoscaler/enabled": "true",
                f"k8s.io/cluster-autoscaler/{env.name}": "owned",
            }
        )
        node_group.add(lifecycle(ignore=["scaling_config[0].desired_size"]))
        node_group.set(
            depends_on=E(
                "[\n    aws_iam_role_policy_attachment.node,\n"
                "    aws_eks_pod_identity_association.vpc_cni,\n  ]"
            )
        )
        return node_group

    # -- add-ons ------------------------------------------------------------------------

    def addons(self, env: Environment) -> list[Block | Comment]:
        cni_env: dict[str, object] = {"ENABLE_PREFIX_DELEGATION": "false"}
        cni_config: dict[str, object] = {"enableNetworkPolicy": "true", "env": cni_env}
        if env.network.pod_ip_mode == "prefix-delegation":
            cni_env.update({"ENABLE_PREFIX_DELEGATION": "true", "WARM_PREFIX_TARGET": "1"})
        elif env.network.pod_ip_mode == "secondary-cidr":
            cni_env.update(
                {
                    "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
                    "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
                }
            )
            cni_config["eniConfig"] = {
                "create": True,
                "region": env.clouds.aws.region if env.clouds.aws else "",
                "subnets": E(
                    "{ for zone, subnet in aws_subnet.pods : zone => { id = subnet.id, "
                    "securityGroups = [aws_eks_cluster.this.vpc_config[0]"
                    ".cluster_security_group_id] } }"
                ),
            }
        before = {
            "vpc-cni": {"configuration_values": Call("jsonencode", cni_config)},
            "eks-pod-identity-agent": {},
        }
        after: dict[str, dict[str, object]] = {
            "coredns": {},
            "kube-proxy": {},
            "aws-ebs-csi-driver": {
                "service_account": "ebs-csi-controller-sa",
                "role_arn": E("aws_iam_role.ebs_csi.arn"),
            },
        }
        if env.monitoring.container_insights:
            after["amazon-cloudwatch-observability"] = {
                "service_account": "cloudwatch-agent",
                "role_arn": E("aws_iam_role.cloudwatch_agent.arn"),
            }
        return [
            Comment(
                "SEC-5: the VPC CNI enforces NetworkPolicy (default-deny policies ship in\n"
                "manifests/). Networking add-ons come up before the nodes; the rest after."
            ),
            B("locals", addons_before_nodes=before, addons_after_nodes=after),
            R(
                "aws_eks_pod_identity_association",
                "vpc_cni",
                cluster_name=E("aws_eks_cluster.this.name"),
                namespace="kube-system",
                service_account="aws-node",
                role_arn=E("aws_iam_role.vpc_cni.arn"),
            ),
            Comment(
                "SEC-4: add-on versions are pinned to the default version EKS names for the\n"
                "cluster's Kubernetes version (terraform-aws-eks main.tf, aws_eks_addon_version):\n"
                "they move when the version moves, or when EKS changes the default, and\n"
                "either shows in a reviewed plan."
            ),
            D(
                "aws_eks_addon_version",
                "this",
                for_each=E("merge(local.addons_before_nodes, local.addons_after_nodes)"),
                addon_name=E("each.key"),
                kubernetes_version=E("aws_eks_cluster.this.version"),
                most_recent=False,
            ),
            self._addon("before_nodes", "local.addons_before_nodes", None),
            self._addon(
                "after_nodes",
                "local.addons_after_nodes",
                "[aws_eks_node_group.system, aws_eks_node_group.workload]",
            ),
        ]

    @staticmethod
    def _addon(name: str, source: str, depends_on: str | None) -> Block:
        addon = R(
            "aws_eks_addon",
            name,
            for_each=E(source),
            cluster_name=E("aws_eks_cluster.this.name"),
            addon_name=E("each.key"),
            addon_version=E("data.aws_eks_addon_version.this[each.key].version"),
            configuration_values=E('lookup(each.value, "configuration_values", null)'),
            resolve_conflicts_on_create="OVERWRITE",
            resolve_conflicts_on_update="OVERWRITE",
        )
        addon.add(
            Block.of(
                "dynamic",
                "pod_identity_association",
                for_each=E('contains(keys(each.value), "role_arn") ? [each.value] : []'),
                content=Block.of(
                    "content",
                    role_arn=E("pod_identity_association.value.role_arn"),
                    service_account=E("pod_identity_association.value.service_account"),
                ),
            )
        )
        if depends_on:
            addon.set(depends_on=E(depends_on))
        return addon

    # -- observability ------------------------------------------------------------------

    def observability(self, env: Environment) -> list[Block | Comment]:
        blocks: list[Block | Comment] = [
            Comment("CHR-7: Container Insights metrics alarm into an encrypted SNS topic."),
            R(
                "aws_sns_topic",
                "alerts",
                name=interp("${local.name}-alerts"),
                kms_master_key_id=E("aws_kms_key.sns.id"),
            ),
        ]
        emails = [t.email for t in env.monitoring.alert_targets if t.email]
        if emails:
            blocks.append(
                R(
                    "aws_sns_topic_subscription",
                    "email",
                    for_each=E("toset(" + _hcl_list(emails) + ")"),
                    topic_arn=E("aws_sns_topic.alerts.arn"),
                    protocol="email",
                    endpoint=E("each.value"),
                )
            )
        # treat_missing_data "missing": no alarm before Container Insights reports (a
        # new cluster); the failed-nodes alarm also notifies when its data stops.
        alarms = {
            "failed_nodes": (
                "cluster_failed_node_count",
                "GreaterThanThreshold",
                0,
                "A node of the cluster is failing",
            ),
            "node_cpu": (
                "node_cpu_utilization",
                "GreaterThanThreshold",
                80,
                "Average node CPU above 80% for 15 minutes",
            ),
            "node_memory": (
                "node_memory_utilization",
                "GreaterThanThreshold",
                85,
                "Average node memory above 85% for 15 minutes",
            ),
        }
        for name, (metric, op, threshold, text) in alarms.items():
            blocks.append(
                R(
                    "aws_cloudwatch_metric_alarm",
                    name,
                    alarm_name=interp(f"${{local.name}}-{name.replace('_', '-')}"),
                    alarm_description=text,
                    namespace="ContainerInsights",
                    metric_name=metric,
                    dimensions={"ClusterName": E("aws_eks_cluster.this.name")},
                    statistic="Average",
                    period=300,
                    evaluation_periods=3,
                    comparison_operator=op,
                    threshold=threshold,
                    treat_missing_data="missing",
                    alarm_actions=E("[aws_sns_topic.alerts.arn]"),
                    ok_actions=E("[aws_sns_topic.alerts.arn]"),
                    insufficient_data_actions=(
                        E("[aws_sns_topic.alerts.arn]") if name == "failed_nodes" else None
                    ),
                )
            )
        if env.monitoring.container_insights:
            blocks += [
                Comment(
                    "CHR-7 / SEC-3: the log groups Container Insights writes to, made here\n"
                    "first so they carry the logs CMK and the spec's retention (the agent\n"
                    "would otherwise create them unencrypted, kept forever)."
                ),
                R(
                    "aws_cloudwatch_log_group",
                    "container_insights",
                    for_each=E('toset(["application", "dataplane", "host", "performance"])'),
                    name=interp("/aws/containerinsights/${local.cluster_name}/${each.value}"),
                    retention_in_days=env.logging.retention_days,
                    kms_key_id=E("aws_kms_key.logs.arn"),
                ),
            ]
        return blocks

    # -- backup -------------------------------------------------------------------------

    def backup(self, env: Environment) -> list[Block | Comment]:
        """DR-1 / DR-4: kubeprod.clouds.aws_backup writes backup.tf."""
        from kubeprod.clouds import aws_backup

        return aws_backup.backup_blocks(env, self._key_policy("default", env))

    # -- outputs ------------------------------------------------------------------------

    def outputs(self, env: Environment) -> list[Block | Comment]:
        a = env.autoscaler
        flags = [
            "--balance-similar-node-groups=" + str(a.balance_similar_node_groups).lower(),
            f"--scale-down-delay-after-add={duration_minutes(a.scale_down_delay_after_add)}m",
            f"--scale-down-unneeded-time={duration_minutes(a.scale_down_unneeded_time)}m",
            f"--scale-down-utilization-threshold={a.scale_down_utilization_threshold}",
            "--skip-nodes-with-local-storage=true",
            "--expander=least-waste",
        ]
        outputs = {
            "cluster_name": ("aws_eks_cluster.this.name", "EKS cluster name"),
            "cluster_arn": ("aws_eks_cluster.this.arn", "EKS cluster ARN"),
            "cluster_endpoint": ("aws_eks_cluster.this.endpoint", "Kubernetes API endpoint"),
            "cluster_version": ("aws_eks_cluster.this.version", "Kubernetes version"),
            "endpoint_private_access": (
                "aws_eks_cluster.this.vpc_config[0].endpoint_private_access",
                "K8S-4",
            ),
            "public_access_cidrs": (
                "aws_eks_cluster.this.vpc_config[0].public_access_cidrs",
                "K8S-5 allow-list",
            ),
            "vpc_id": ("aws_vpc.this.id", "VPC ID"),
            "private_subnet_ids": (
                "{ for zone, s in aws_subnet.private : zone => s.id }",
                "Node subnets by zone",
            ),
            "nat_gateway_ids": (
                "{ for zone, n in aws_nat_gateway.this : zone => n.id }",
                "NAT gateway per zone",
            ),
            "node_groups": (
                "{ for g in concat([aws_eks_node_group.system], "
                "values(aws_eks_node_group.workload)) : g.node_group_name => g.scaling_config[0] }",
                "Node groups and their sizes",
            ),
            "secrets_kms_key_arn": ("aws_kms_key.eks.arn", "SEC-8 key"),
            "alerts_topic_arn": ("aws_sns_topic.alerts.arn", "CHR-7 alert topic"),
        }
        blocks: list[Block | Comment] = [
            B("output", name, description=desc, value=E(expr))
            for name, (expr, desc) in outputs.items()
        ]
        blocks.append(
            B("output", "cluster_autoscaler_flags")
            .add(tag(Req.CHR_6, note="conservative scale-down for Cluster Autoscaler."))
            .set(
                description="CHR-6: conservative scale-down flags for Cluster "
                "Autoscaler (auto-discovery tags are on the node groups)",
                value=flags,
            )
        )
        return blocks


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` nodes over `parts` zones, the remainder on the first zones: 20 / 3 -> 7, 7, 6."""
    if parts <= 0:
        return []
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _hcl_list(items: list[str]) -> str:
    return "[" + ", ".join(f'"{i}"' for i in items) + "]"
