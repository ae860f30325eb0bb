"""The requirement catalogue: every ID of shared/design/requirements-map.md, typed.

`Req` is the one list of requirement IDs. Profile rules, gate rules, renderer tags,
`kubeprod explain` and the README's feature table all name requirements through it,
so an ID that is not in the brief cannot be cited and a brief line cannot go
unaccounted for. A leaf module: it imports nothing of kubeprod's.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Family(StrEnum):
    """The sections of the brief."""

    CHR = "Characteristics"
    NET = "Networking"
    K8S = "Kubernetes"
    SEC = "Security"
    DR = "Disaster recovery"
    CHG = "Change management"


class Req(StrEnum):
    """One line of the brief. The value is the ID (`Req.SEC_8 == "SEC-8"`)."""

    CHR_1 = "CHR-1"
    CHR_2 = "CHR-2"
    CHR_3 = "CHR-3"
    CHR_4 = "CHR-4"
    CHR_5 = "CHR-5"
    CHR_6 = "CHR-6"
    CHR_7 = "CHR-7"
    CHR_8 = "CHR-8"
    NET_1 = "NET-1"
    NET_2 = "NET-2"
    NET_3 = "NET-3"
    NET_4 = "NET-4"
    NET_5 = "NET-5"
    NET_6 = "NET-6"
    K8S_1 = "K8S-1"
    K8S_2 = "K8S-2"
    K8S_3 = "K8S-3"
    K8S_4 = "K8S-4"
    K8S_5 = "K8S-5"
    K8S_6 = "K8S-6"
    K8S_7 = "K8S-7"
    SEC_1 = "SEC-1"
    SEC_2 = "SEC-2"
    SEC_3 = "SEC-3"
    SEC_4 = "SEC-4"
    SEC_5 = "SEC-5"
    SEC_6 = "SEC-6"
    SEC_7 = "SEC-7"
    SEC_8 = "SEC-8"
    DR_1 = "DR-1"
    DR_2 = "DR-2"
    DR_3 = "DR-3"
    DR_4 = "DR-4"
    DR_5 = "DR-5"
    CHG_1 = "CHG-1"
    CHG_2 = "CHG-2"
    CHG_3 = "CHG-3"
    CHG_4 = "CHG-4"
    CHG_5 = "CHG-5"

    @property
    def brief(self) -> str:
        """The line of the brief, as requirements-map.md words it."""
        return BRIEF[self]

    @property
    def family(self) -> Family:
        return Family[self.value.split("-")[0]]

    @property
    def same_as(self) -> Req | None:
        """The requirement this one restates (NET-4 is CHR-5), or None."""
        return SAME_AS.get(self)

    @property
    def in_module(self) -> bool:
        """Met (or declared not covered) by each cloud's rendered root module.

        CHG-* are met by the change process, CHR-8 by the DR-* lines.
        """
        return self.family is not Family.CHG and self is not Req.CHR_8

    @classmethod
    def parse(cls, text: str) -> Req:
        """The requirement `text` names (case-insensitive); ValueError listing the valid IDs."""
        try:
            return cls(text.strip().upper())
        except ValueError:
            raise ValueError(
                f"'{text}' is not a requirement ID. Valid IDs: {', '.join(cls)}"
            ) from None


BRIEF: dict[Req, str] = {
    Req.CHR_1: "Long-lived, rarely destroyed",
    Req.CHR_2: "Reliability over cost",
    Req.CHR_3: "Multi-AZ required",
    Req.CHR_4: "Production-grade types, no Spot/Preemptible",
    Req.CHR_5: "NAT gateway per AZ",
    Req.CHR_6: "Conservative scale-down",
    Req.CHR_7: "Enhanced monitoring and alerting",
    Req.CHR_8: "Backups and DR",
    Req.NET_1: "VPC CIDR 10.1.0.0/16",
    Req.NET_2: "Public subnets 10.1.1-3.0/24",
    Req.NET_3: "Private subnets 10.1.10-12.0/24",
    Req.NET_4: "NAT per AZ: true",
    Req.NET_5: "3 availability zones",
    Req.NET_6: "(implied) the addresses must fit",
    Req.K8S_1: "Version: stable N-1",
    Req.K8S_2: "System: 3 nodes min, m5.large / Standard_D4s_v3 / e2-standard-4",
    Req.K8S_3: "Workload: 3-20 nodes, autoscaling, on-demand",
    Req.K8S_4: "Private endpoint: true",
    Req.K8S_5: "Public endpoint: true (restricted IPs)",
    Req.K8S_6: "Encryption at rest",
    Req.K8S_7: "Enhanced logging",
    Req.SEC_1: "Private cluster endpoint mandatory",
    Req.SEC_2: "Public endpoint with strict IP restrictions",
    Req.SEC_3: "Encryption at rest for all data",
    Req.SEC_4: "Regular security patching",
    Req.SEC_5: "Network policies enforced",
    Req.SEC_6: "Pod security standards enforced",
    Req.SEC_7: "Audit logging",
    Req.SEC_8: "Secrets encrypted with KMS / Key Vault",
    Req.DR_1: "Automated backups of cluster state",
    Req.DR_2: "IaC in version control",
    Req.DR_3: "Regular DR drills",
    Req.DR_4: "Multi-region failover (future)",
    Req.DR_5: "RTO/RPO defined and tested",
    Req.CHG_1: "All changes via pull requests",
    Req.CHG_2: "Terraform plan review required",
    Req.CHG_3: "Apply during maintenance windows",
    Req.CHG_4: "Rollback plan for all changes",
    Req.CHG_5: "Change notifications to team",
}

# Lines of the brief that restate another (requirements-map.md says "see X" / "X").
SAME_AS: dict[Req, Req] = {
    Req.NET_4: Req.CHR_5,
    Req.K8S_6: Req.SEC_3,
    Req.SEC_1: Req.K8S_4,
}

# Requirements met by the change process rather than by a rendered module: the
# commands that meet them (docs/change-management.md has the details).
PROCESS: dict[Req, str] = {
    Req.CHR_8: "the DR-* requirements (backups, state, drills, failover, RTO/RPO)",
    Req.CHG_1: "`kubeprod ci github|atlantis` writes the pull-request workflow; "
    "`kubeprod apply` refuses a production plan made from a dirty tree or a branch other "
    "than main unless overridden with a recorded reason",
    Req.CHG_2: "`kubeprod plan` saves a plan bundle with hashes; `kubeprod review` writes "
    "the PR summary; `kubeprod approve` binds approval to the plan hash",
    Req.CHG_3: "`kubeprod windows SPEC` lists the windows and freezes; `kubeprod apply` "
    "refuses outside them (`--emergency --reason` is recorded and notified)",
    Req.CHG_4: "`kubeprod review` names the state snapshot and the revision to return to; "
    "`kubeprod rollback --to`, `kubeprod state restore`, `kubeprod history`",
    Req.CHG_5: "`kubeprod apply` and `kubeprod drift` notify start, success, failure, "
    "emergency and drift through Apprise",
}

_ID_PREFIX = re.compile(r"^(CHR|NET|K8S|SEC|DR|CHG)-\d+")


def requirement_of(rule_id: str) -> Req | None:
    """The requirement a rule ID belongs to: "SEC-3" and "SEC-3-AKS-DISK" both give SEC-3."""
    match = _ID_PREFIX.match(rule_id)
    if match is None:
        return None
    try:
        return Req(match.group(0))
    except ValueError:
        return None


MODULE_REQUIREMENTS: tuple[Req, ...] = tuple(r for r in Req if r.in_module)
