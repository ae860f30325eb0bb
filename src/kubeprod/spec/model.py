"""The environment spec: one typed model for every cloud.

Field names are what a user writes in `environments/<name>.yaml`. Structural
checks (types, CIDR syntax, unknown keys) live here; the production profile's
requirement rules live in `profile.py` so they can be reported all at once.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from functools import cache
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from kubeprod.facts.aws import EKS_LOG_TYPES, EksLogType
from kubeprod.paths import render_dir
from kubeprod.thresholds import MAX_PUBLIC_PREFIX

CloudName = Literal["aws", "azure", "gcp"]
CLOUDS: tuple[CloudName, ...] = ("aws", "azure", "gcp")


def _cidr(value: str) -> str:
    try:
        net = ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        try:
            loose = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"'{value}' is not a valid CIDR block ({exc}); write it like 10.1.0.0/16"
            ) from None
        raise ValueError(
            f"'{value}' has host bits set, so it is not the start of a CIDR block; "
            f"write the network address {loose}"
        ) from None
    if "/" not in value:
        raise ValueError(f"'{value}' has no prefix length; write it with one, like {net}")
    return str(net)


Cidr = Annotated[str, AfterValidator(_cidr)]
_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{1,30}[a-z0-9]$")
_DURATION_RE = re.compile(r"^(\d+)(m|h)$")
_HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
GCP_PROJECT_RE = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
EMAIL_RE = re.compile(r"^[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
MACHINE_ZONES = frozenset({"localtime", "posixrules", "Factory"})


def _duration(value: str) -> str:
    if not _DURATION_RE.match(value):
        raise ValueError(f"'{value}' is not a duration; write minutes or hours, like 30m or 4h")
    return value


Duration = Annotated[str, AfterValidator(_duration)]


def duration_minutes(value: str) -> int:
    """'30m' -> 30, '4h' -> 240."""
    match = _DURATION_RE.match(value)
    if not match:
        raise ValueError(f"not a duration: {value}")
    number, unit = int(match.group(1)), match.group(2)
    return number * 60 if unit == "h" else number


@cache
def _timezones() -> frozenset[str]:
    """IANA zone names (scanning tzdata is slow; do it once)."""
    return frozenset(available_timezones())


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AwsCloud(Strict):
    region: str = Field(description="AWS region, e.g. eu-west-1")
    zones: list[str] = Field(
        description="Availability zones by name, chosen explicitly (NET-5): list order never shifts"
    )
    account_id: str | None = Field(
        default=None, description="Expected account ID; terraform refuses another account"
    )
    autoscaling_service_linked_role: Literal["create", "import"] = Field(
        default="create",
        description="SEC-3: the EBS key policy names AWSServiceRoleForAutoScaling, so the module "
        "manages it: create (a fresh account has none) or import (the account has used EC2 Auto "
        "Scaling; creating it again would fail)",
    )


class AzureCloud(Strict):
    location: str = Field(description="Azure region, e.g. westeurope")
    zones: list[str] = Field(default=["1", "2", "3"], description="Availability zones")
    subscription_id: str | None = None
    network_policy: Literal["azure", "cilium"] = Field(
        default="cilium",
        description="SEC-5: AKS network policy engine: cilium (Azure CNI powered by Cilium, "
        "the default) or azure (Azure Network Policy Manager, whose Linux support is ending)",
    )
    admin_group_object_ids: list[str] = Field(
        default=[], description="Entra ID groups given cluster admin through Azure RBAC"
    )
    pod_cidr: Cidr = Field(
        default="10.244.0.0/16",
        description="NET-6: CNI Overlay pod range, when network.pod_cidr is not set",
    )
    state_resource_group: str | None = Field(
        default=None, description="DR-2: resource group of the state storage account"
    )
    state_storage_account: str | None = Field(
        default=None, description="DR-2: globally unique storage account for terraform state"
    )


class GcpCloud(Strict):
    project: str = Field(description="GCP project ID")

    @field_validator("project")
    @classmethod
    def _project_id(cls, value: str) -> str:
        if not GCP_PROJECT_RE.match(value):
            raise ValueError(
                f"'{value}' is not a GCP project ID: 6-30 lowercase letters, digits or "
                "hyphens, starting with a letter, not ending with a hyphen; like acme-prod-123"
            )
        return value

    region: str
    zones: list[str]
    master_ipv4_cidr_block: Cidr = Field(
        default="172.16.0.0/28",
        description="K8S-4: the /28 of the GKE control plane's private endpoint (NET-6 checks it)",
    )
    rbac_security_group: str | None = Field(
        default=None,
        description="gke-security-groups@<your domain>: Google Groups for Kubernetes RBAC",
    )
    state_bucket: str | None = Field(
        default=None, description="DR-2: GCS state bucket; defaults to <project>-<name>-tfstate"
    )
    image_allowlist: list[str] = Field(
        default=[],
        description="SEC-6: Binary Authorization admits images matching these patterns (e.g. "
        "quay.io/jetstack/**), besides the project's Artifact Registry and GKE system images",
    )


class Clouds(Strict):
    aws: AwsCloud | None = None
    azure: AzureCloud | None = None
    gcp: GcpCloud | None = None


class Network(Strict):
    vpc_cidr: Cidr = Field(default="10.1.0.0/16", description="NET-1")
    public_subnets: list[Cidr] = Field(
        default=["10.1.1.0/24", "10.1.2.0/24", "10.1.3.0/24"],
        description="NET-2: one per zone, in the order of the cloud's zones",
    )
    private_subnets: list[Cidr] = Field(
        default=["10.1.10.0/24", "10.1.11.0/24", "10.1.12.0/24"],
        description="NET-3: one per zone, in the order of the cloud's zones",
    )
    nat_gateway_per_az: bool = Field(default=True, description="NET-4 / CHR-5")
    pod_ip_mode: Literal["vpc-cni", "prefix-delegation", "secondary-cidr"] = Field(
        default="vpc-cni",
        description=(
            "NET-6 (AWS): how pods get addresses. vpc-cni = one subnet IP per pod; "
            "prefix-delegation = /28 prefixes per ENI; secondary-cidr = pods in pod_cidr"
        ),
    )
    pod_cidr: Cidr | None = Field(
        default=None, description="Secondary CIDR for pods (secondary-cidr mode; AKS overlay)"
    )
    service_cidr: Cidr = Field(default="172.20.0.0/16", description="Kubernetes services")
    flow_logs: bool = True


class InstanceTypes(Strict):
    aws: str
    azure: str
    gcp: str


class NodeGroup(Strict):
    min_size: int = Field(ge=0, le=1000)
    max_size: int = Field(ge=0, le=1000)
    desired_size: int | None = Field(default=None, ge=0, le=1000)
    instance_types: InstanceTypes
    capacity_type: Literal["on-demand", "spot"] = "on-demand"
    disk_size_gb: int = Field(default=100, ge=20, le=16384)
    max_pods_per_node: int | None = Field(
        default=None, ge=10, le=737, description="Defaults to the cloud's value for the type"
    )
    labels: dict[str, str] = {}

    @field_validator("desired_size")
    @classmethod
    def _desired_in_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        """Checked on the field itself so the problem names desired_size and its line."""
        low, high = info.data.get("min_size"), info.data.get("max_size")
        if value is None or low is None or high is None:
            return value
        if not low <= value <= max(high, low):
            raise ValueError(
                f"desired_size {value} is outside min_size..max_size "
                f"({low}..{high}); set it between them or leave it out"
            )
        return value

    @property
    def desired(self) -> int:
        return self.desired_size if self.desired_size is not None else self.min_size


class NodeGroups(Strict):
    system: NodeGroup
    workload: NodeGroup


class Autoscaler(Strict):
    """CHR-6: conservative scale-down."""

    scale_down_delay_after_add: Duration = "30m"
    scale_down_unneeded_time: Duration = "30m"
    scale_down_utilization_threshold: float = Field(default=0.4, gt=0, le=1)
    balance_similar_node_groups: bool = True


class Kubernetes(Strict):
    version: str = Field(description="K8S-1: minor version, N-1 of standard support")
    support_type: Literal["STANDARD", "EXTENDED"] = "STANDARD"
    release_channel: Literal["STABLE", "REGULAR", "RAPID"] = "STABLE"

    @field_validator("version")
    @classmethod
    def _minor(cls, value: str) -> str:
        if not re.match(r"^1\.\d{2}$", value):
            raise ValueError(f"'{value}' is not a Kubernetes minor version; write it like \"1.33\"")
        return value


class ApiEndpoint(Strict):
    private: bool = Field(default=True, description="K8S-4 / SEC-1")
    public: bool = Field(default=True, description="K8S-5")
    public_allowed_cidrs: list[Cidr] = Field(
        default=[], description="SEC-2: the only sources allowed on the public endpoint"
    )
    max_public_prefix: int = Field(
        default=MAX_PUBLIC_PREFIX,
        ge=8,
        le=32,
        description="SEC-2: no allow-list entry may be wider than this prefix length",
    )


class Encryption(Strict):
    secrets: bool = Field(default=True, description="SEC-8")
    volumes: bool = Field(default=True, description="SEC-3")
    key_rotation: bool = True
    key_deletion_window_days: int = Field(default=30, ge=7, le=30)


class Logging(Strict):
    control_plane: list[EksLogType] = Field(
        default=list(EKS_LOG_TYPES),
        description="K8S-7 / SEC-7 (names as EKS uses them; mapped per cloud)",
    )
    retention_days: int = Field(default=365, ge=1, le=3653)


class AlertTarget(Strict):
    email: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL_RE.match(value):
            raise ValueError(f"'{value}' is not an email address; write it like ops@example.com")
        return value

    webhook_env: str | None = Field(
        default=None, description="Name of the environment variable holding the webhook URL"
    )


class Monitoring(Strict):
    container_insights: bool = True
    managed_prometheus: bool = True
    alert_targets: list[AlertTarget] = []


class Backup(Strict):
    """DR-1: automated backups of cluster state; the schedule must meet the RPO (DR-5)."""

    enabled: bool = True
    schedule: str = Field(
        default="cron(0 */2 * * ? *)",
        description="DR-1/DR-5: AWS Backup cron(...) in UTC; Backup for GKE runs the same "
        "cron, AKS Backup the ISO 8601 interval that fires at least as often (from PT4H)",
    )
    start_window_minutes: int = Field(
        default=60, description="AWS Backup start window (at least 60); counts toward the RPO"
    )
    completion_window_minutes: int = Field(
        default=120,
        description="Time a job may run before its recovery point is usable; counts toward "
        "the RPO on every cloud",
    )
    retention_days: int = Field(default=35, description="Days a recovery point is kept")
    min_recovery_points: int = Field(
        default=3,
        description="Retention must always hold at least this many recovery points "
        "(never lose the last good backup)",
    )
    azure_schedule: str | None = Field(
        default=None,
        description="AKS Backup ISO 8601 repeating interval (R/<start>/PT4H); "
        "derived from `schedule` when not set",
    )
    gcp_target_rpo_minutes: int | None = Field(
        default=None,
        description="Backup for GKE rpo_config.target_rpo_minutes instead of the cron schedule",
    )


class DrTarget(Strict):
    """RTO and RPO for one disaster scenario (DR-5)."""

    rto_minutes: int = Field(description="Declared to verified recovery, at most")
    rpo_minutes: int = Field(description="Data loss (age of the restored recovery point), at most")


class DrTargets(Strict):
    zone_loss: DrTarget = Field(
        default=DrTarget(rto_minutes=60, rpo_minutes=60),
        description="One availability zone lost: repaired in place, no data restored",
    )
    region_loss: DrTarget = Field(
        default=DrTarget(rto_minutes=240, rpo_minutes=360),
        description="The primary region lost: rebuilt in the recovery region from code, "
        "state and the newest backup; the backup schedule must meet this RPO",
    )


class RecoveryRegions(Strict):
    aws: str | None = Field(default=None, description="AWS recovery region, e.g. eu-central-1")
    azure: str | None = Field(default=None, description="Azure recovery region")
    gcp: str | None = Field(default=None, description="GCP recovery region")


class Dr(Strict):
    """DR-3/DR-4/DR-5: targets per scenario, drill interval, the recovery region."""

    targets: DrTargets = DrTargets()
    drill_interval_days: int = Field(
        default=90, description="DR-3: the last passing drill may be at most this old"
    )
    recovery_region: RecoveryRegions = Field(
        default=RecoveryRegions(),
        description="DR-4: where backups are copied and the region-loss drill rebuilds",
    )


class MaintenanceWindow(Strict):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]]
    start: str = Field(description="HH:MM local time in `timezone`")
    duration: Duration = "4h"
    timezone: str = "UTC"

    @field_validator("start")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM_RE.match(value):
            raise ValueError(f"'{value}' is not a time of day; write it as HH:MM, like 02:00")
        return value

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: str) -> str:
        if duration_minutes(value) == 0:
            raise ValueError(f"'{value}' is a window that never opens; give it a length, like 4h")
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        if value in MACHINE_ZONES:
            raise ValueError(
                f"'{value}' depends on the machine kubeprod runs on; name the zone, like "
                "Europe/London"
            )
        if value not in _timezones():
            raise ValueError(f"'{value}' is not an IANA time zone; write it like Europe/London")
        return value


def _iso_date(value: object) -> str:
    """A YAML date (unquoted 2026-12-20) or an ISO date string, within 1970..2999."""
    if isinstance(value, date):
        value = value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"'{value}' is not a date; write it like 2026-12-20")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date; write it like 2026-12-20") from None
    if not 1970 <= parsed.year <= 2999:
        raise ValueError(f"'{value}' is outside 1970..2999; write a real freeze date")
    return parsed.isoformat()


IsoDate = Annotated[str, BeforeValidator(_iso_date)]


class Freeze(Strict):
    start: IsoDate = Field(description="ISO date, inclusive")
    end: IsoDate = Field(description="ISO date, inclusive")
    reason: str = ""

    @field_validator("end")
    @classmethod
    def _ordered(cls, value: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start and value < start:
            raise ValueError(f"end {value} is before start {start}; swap them")
        return value


class Maintenance(Strict):
    windows: list[MaintenanceWindow] = []
    freezes: list[Freeze] = []
    min_time_before_close: Duration = "60m"


class NotificationTarget(Strict):
    name: str
    url_env: str = Field(
        description="Environment variable holding the Apprise URL (it may carry a secret)"
    )

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not ENV_NAME_RE.match(value):
            raise ValueError(
                f"'{value}' is not an environment variable name (the URL itself never goes "
                "in the spec); write a name like KUBEPROD_NOTIFY_URL"
            )
        return value

    events: list[Literal["start", "success", "failure", "emergency", "drift"]] = [
        "start",
        "success",
        "failure",
        "emergency",
        "drift",
    ]


class Notifications(Strict):
    targets: list[NotificationTarget] = []


class AwsState(Strict):
    bucket: str | None = Field(default=None, description="Defaults to kubeprod-<name>-<account>")
    key: str | None = None
    region: str | None = None


class State(Strict):
    aws: AwsState = AwsState()


# Principal formats each cloud accepts for a cluster admin (checked before any render, so a
# typo is a located spec error rather than a failed apply).
_IAM_PRINCIPAL_RE = re.compile(
    r"^arn:aws(-cn|-us-gov|-iso[a-z]?)?:iam::\d{12}:(role|user)/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$"
)
_GUID_RE = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_GCP_MEMBER_RE = re.compile(r"^(user|group|serviceAccount):[^@\s:]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _matching(pattern: re.Pattern[str], problem: str, fix: str) -> AfterValidator:
    """A validator refusing values not matching `pattern` ("{value}" in `problem` is the value)."""

    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{problem.format(value=value)}; {fix}")
        return value

    return AfterValidator(check)


def _iam_principal(value: str) -> str:
    """EKS access entries take an IAM role or user ARN (not an STS assumed-role ARN)."""
    if ":sts:" in value and ":assumed-role/" in value:
        raise ValueError(
            f"'{value}' is an assumed-role session, not an IAM principal; "
            "give the role's ARN, like arn:aws:iam::111122223333:role/platform-admins"
        )
    return value


IamPrincipalArn = Annotated[
    str,
    AfterValidator(_iam_principal),
    _matching(
        _IAM_PRINCIPAL_RE,
        "'{value}' is not an IAM role or user ARN",
        "write it like arn:aws:iam::111122223333:role/platform-admins",
    ),
]
EntraObjectId = Annotated[
    str,
    _matching(
        _GUID_RE,
        "'{value}' is not an Entra ID object ID (a GUID)",
        "write the group's object ID, like 0b5c2a6e-3f1d-4c8e-9a7b-2d6f1e4c8a90 "
        "(az ad group show --group NAME --query id)",
    ),
]
GcpMember = Annotated[
    str,
    _matching(
        _GCP_MEMBER_RE,
        "'{value}' is not an IAM member of the form user:, group: or serviceAccount: "
        "followed by an email",
        "write it like group:platform-admins@example.com",
    ),
]


class Access(Strict):
    """Who administers the cluster; the production profile needs one per configured cloud."""

    cluster_admin_arns: list[IamPrincipalArn] = Field(
        default=[],
        description="AWS: IAM role/user ARNs granted AmazonEKSClusterAdminPolicy through EKS "
        "access entries",
    )
    azure_admin_group_object_ids: list[EntraObjectId] = Field(
        default=[],
        description="Entra ID group object IDs granted AKS cluster admin (Azure RBAC)",
    )
    gcp_admin_members: list[GcpMember] = Field(
        default=[],
        description="IAM members (user:, group:, serviceAccount:) granted GKE cluster admin",
    )


_DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
PodSecurityLevel = Literal["privileged", "baseline", "restricted"]


def _dns_label(value: str) -> str:
    if not _DNS_LABEL_RE.match(value):
        raise ValueError(
            f"'{value}' is not a DNS label (RFC 1123): use at most 63 lowercase letters, "
            "digits or dashes, starting and ending with a letter or digit, like payments"
        )
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]


class NetworkAllow(Strict):
    """SEC-5: one declared ingress allow into a workload namespace."""

    from_namespace: DnsLabel = Field(description="Namespace the traffic comes from")
    from_labels: dict[str, str] = Field(
        default={}, description="Pod labels in from_namespace (empty: every pod there)"
    )
    port: int = Field(description="Destination port on the pods of this namespace (1-65535)")
    protocol: Literal["TCP", "UDP", "SCTP"] = "TCP"

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool) and not 1 <= value <= 65535:
            raise ValueError(f"port {value} is outside 1-65535; write a TCP/UDP port like 8080")
        return value


class WorkloadNamespace(Strict):
    """SEC-5 / SEC-6: a namespace for workloads: restricted pod security, default deny."""

    name: DnsLabel
    allows: list[NetworkAllow] = Field(
        default=[], description="Ingress allowed besides the default deny (DNS egress is open)"
    )


class GitOps(Strict):
    """How the baseline manifests reach the cluster besides `kubeprod cluster apply`."""

    mode: Literal["none", "flux", "config-sync", "argocd"] = Field(
        default="none",
        description="none: kubeprod cluster apply; flux: AKS microsoft.flux extension or Flux "
        "on EKS; config-sync: GKE Config Sync; argocd: an Argo CD Application on EKS",
    )
    repository: str | None = Field(default=None, description="Git URL holding the render")
    branch: str = "main"
    path: str | None = Field(
        default=None, description="Path of the cloud's kubernetes/ directory in the repository"
    )

    def path_for(self, environment: str, cloud: str) -> str:
        """The directory the hookup reads: `path`, else the render's kubernetes/."""
        return self.path or f"{render_dir(environment, cloud)}/kubernetes"


class ClusterBaseline(Strict):
    """SEC-5 / SEC-6 / CHR-6 / SEC-3: the in-cluster baseline `kubeprod render` writes."""

    namespaces: list[WorkloadNamespace] = Field(
        default=[WorkloadNamespace(name="apps")],
        description="Workload namespaces: PSS restricted, default-deny ingress and egress",
    )
    system_namespaces: dict[DnsLabel, PodSecurityLevel] = Field(
        default={},
        description="Pod security level of system namespaces (defaults per cloud: "
        "kube-system privileged; see docs/baseline.md)",
    )
    gitops: GitOps = GitOps()


class ChangeControl(Strict):
    single_operator: str | None = Field(
        default=None,
        description="CHG-2 exception for a team of one: this person may approve their own "
        "production plans (recorded with every approval)",
    )


class Environment(Strict):
    """One environment, e.g. production."""

    name: str = Field(description="Environment name: lowercase letters, digits, dashes")
    profile: Literal["production"] = "production"
    clouds: Clouds
    network: Network = Network()
    kubernetes: Kubernetes
    node_groups: NodeGroups
    autoscaler: Autoscaler = Autoscaler()
    cluster: ClusterBaseline = ClusterBaseline()
    api_endpoint: ApiEndpoint = ApiEndpoint()
    access: Access = Access()
    encryption: Encryption = Encryption()
    logging: Logging = Logging()
    monitoring: Monitoring = Monitoring()
    backup: Backup = Backup()
    dr: Dr = Dr()
    maintenance: Maintenance = Maintenance()
    notifications: Notifications = Notifications()
    change_control: ChangeControl = ChangeControl()
    tags: dict[str, str] = {}
    state: State = State()

    @field_validator("tags")
    @classmethod
    def _tag_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if key.lower().startswith("aws:"):
                raise ValueError(
                    f"tag key '{key}' uses the prefix aws:, which AWS reserves for its own "
                    "tags (the apply would fail); rename it, like team or app:team"
                )
        return value

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError(
                f"'{value}' must be 3-32 lowercase letters, digits or dashes, "
                "starting with a letter; for example production-eu"
            )
        return value

    def cloud_zones(self, cloud: CloudName) -> list[str]:
        section = getattr(self.clouds, cloud)
        return list(section.zones) if section else []
