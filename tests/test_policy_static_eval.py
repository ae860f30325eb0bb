"""Directory mode evaluates configurations as terraform would: tfvars, locals through
functions, dynamic blocks, count/for_each on resources and module calls, module outputs,
the backend from parsed HCL (nested blocks, BOM), and unknown only for cloud values."""

from __future__ import annotations

from pathlib import Path

from kubeprod.policy.engine import check_directory
from kubeprod.policy.plan_model import UNKNOWN, Ref
from kubeprod.policy.static import backend_of, from_directory, parse_directory


def write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


MODULE_TREE = {
    "main.tf": """
variable "cluster_name" { default = "prod" }
variable "public_access_cidrs" { default = ["10.0.0.0/8"] }
variable "pools" {
  default = {
    system = { min = 3, taint = true }
    work   = { min = 3, taint = false }
  }
}
variable "create_ns" { default = false }

data "aws_availability_zones" "available" {}
data "aws_subnets" "public" {}

locals {
  azs      = slice(data.aws_availability_zones.available.names, 0, 3)
  zones    = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  private  = [for i, z in local.zones : cidrsubnet("10.1.0.0/16", 8, i + 10)]
  defaults = { instance_types = ["m5.large"], capacity_type = "ON_DEMAND" }
  groups   = { for k, v in var.pools : k => merge(local.defaults, v) }
}

module "vpc" {
  source          = "./modules/vpc"
  private_subnets = local.private
  zones           = local.zones
}

module "node_group" {
  source   = "./modules/group"
  for_each = local.groups
  name     = "${var.cluster_name}-${each.key}"
  subnets  = module.vpc.private_ids
  settings = each.value
}

module "disabled" {
  source = "./modules/group"
  count  = 0
  name   = "never"
  subnets = []
  settings = {}
}

resource "aws_eks_cluster" "this" {
  name = var.cluster_name
  vpc_config {
    subnet_ids          = module.vpc.private_ids
    public_access_cidrs = var.public_access_cidrs
  }
  dynamic "encryption_config" {
    for_each = [{ resources = ["secrets"] }]
    content {
      resources = encryption_config.value.resources
      provider {
        key_arn = "arn:aws:kms:eu-west-1:111122223333:key/x"
      }
    }
  }
}

resource "kubernetes_namespace_v1" "apps" {
  count = var.create_ns ? 1 : 0
  metadata { name = "apps" }
}

resource "aws_nat_gateway" "by_data" {
  count     = length(data.aws_subnets.public.ids)
  subnet_id = "x"
}
""",
    "terraform.tfvars": 'public_access_cidrs = ["0.0.0.0/0"]\n',
    "extra.auto.tfvars": 'cluster_name = "from-auto"\n',
    "modules/vpc/main.tf": """
variable "private_subnets" { type = list(string) }
variable "zones" { type = list(string) }
resource "aws_subnet" "private" {
  count             = length(var.private_subnets)
  cidr_block        = var.private_subnets[count.index]
  availability_zone = element(var.zones, count.index)
  tags = { "kubernetes.io/role/internal-elb" = 1 }
}
output "private_ids" { value = aws_subnet.private[*].id }
output "private_cidrs" { value = aws_subnet.private[*].cidr_block }
""",
    "modules/group/main.tf": """
variable "name" {}
variable "subnets" {}
variable "settings" {}
resource "aws_eks_node_group" "this" {
  node_group_name = var.name
  subnet_ids      = var.subnets
  instance_types  = try(var.settings.instance_types, ["t3.small"])
  capacity_type   = lookup(var.settings, "capacity_type", "SPOT")
  scaling_config {
    min_size     = var.settings.min
    max_size     = 20
    desired_size = var.settings.min
  }
  dynamic "taint" {
    for_each = var.settings.taint ? [1] : []
    content {
      key    = "CriticalAddonsOnly"
      effect = "NO_SCHEDULE"
    }
  }
}
""",
}


def test_module_tree_evaluates_like_terraform(tmp_path):
    model = from_directory(write(tmp_path, MODULE_TREE))
    res = {r.address: r for r in model.resources}
    cluster = res["aws_eks_cluster.this"]
    assert cluster.values["name"] == "from-auto"  # *.auto.tfvars after defaults
    assert cluster.values["vpc_config"][0]["public_access_cidrs"] == ["0.0.0.0/0"]  # tfvars
    assert cluster.values["encryption_config"][0]["provider"][0]["key_arn"].startswith("arn:")
    subnets = [res[f"module.vpc.aws_subnet.private[{i}]"] for i in range(3)]
    assert [s.values["cidr_block"] for s in subnets] == [
        "10.1.10.0/24",
        "10.1.11.0/24",
        "10.1.12.0/24",
    ]
    assert subnets[2].values["availability_zone"] == "eu-west-1c"
    system = res['module.node_group["system"].aws_eks_node_group.this']
    work = res['module.node_group["work"].aws_eks_node_group.this']
    assert system.values["node_group_name"] == "from-auto-system"
    assert system.values["taint"][0]["key"] == "CriticalAddonsOnly"
    assert work.values["taint"] == []  # dynamic block over an empty list: no block
    assert work.values["capacity_type"] == "ON_DEMAND"
    assert work.values["instance_types"] == ["m5.large"]
    # ids come from the cloud: each names the subnet it is the ID of (through the module
    # output), so rules can follow it to the subnet's zone and CIDR
    assert work.values["subnet_ids"] == [f"module.vpc.aws_subnet.private[{i}].id" for i in range(3)]
    assert all(isinstance(i, Ref) for i in work.values["subnet_ids"])
    assert subnets[0].values["id"] == work.values["subnet_ids"][0]
    assert not any(a.startswith("module.disabled") for a in res)  # count = 0 on a module call
    assert not any(a.startswith("kubernetes_namespace_v1") for a in res)  # count = 0
    # count from a data source: one instance marked unknown, never a phantom judged as real
    nat = res["aws_nat_gateway.by_data[*]"]
    assert nat.values["subnet_id"] is UNKNOWN and nat.action == "unknown-instances"


def test_tfvars_open_endpoint_is_blocked(tmp_path):
    report = check_directory(write(tmp_path, MODULE_TREE), cloud="aws")
    sec2 = [f for f in report.findings if f.rule_id == "K8S-5" and f.status == "fail"]
    assert sec2, report.rule_status()


def test_each_module_directory_is_parsed_once(tmp_path, monkeypatch):
    import hcl2

    from kubeprod.policy import hcl_body, static

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    write(tmp_path, MODULE_TREE)
    calls: list[int] = []
    own = hcl_body.parse_body
    monkeypatch.setattr(hcl_body, "parse_body", lambda *a: calls.append(1) or own(*a))
    static._PARSED.clear()
    first = [(r.address, r.values) for r in from_directory(tmp_path).resources]
    assert len(calls) == 5  # main.tf, two tfvars files, vpc, group (called 2 + 0 times)

    # python-hcl2 (KUBEPROD_HCL_PARSER=python-hcl2, or a file kubeprod's parser refuses):
    # the same model, and the next run reads every parse from the on-disk cache
    loads: list[int] = []
    real = hcl2.loads
    monkeypatch.setattr(hcl2, "loads", lambda *a, **k: loads.append(1) or real(*a, **k))
    monkeypatch.setenv("KUBEPROD_HCL_PARSER", "python-hcl2")
    for _ in range(2):
        static._PARSED.clear()
        assert [(r.address, r.values) for r in from_directory(tmp_path).resources] == first
    assert len(loads) == 5
    monkeypatch.setenv("KUBEPROD_NO_CACHE", "1")
    static._PARSED.clear()
    from_directory(tmp_path)
    assert len(loads) == 10


def test_backend_with_nested_block_and_bom(tmp_path):
    text = """terraform {
  backend "s3" {
    bucket = "state"
    key    = "prod.tfstate"
    assume_role {
      role_arn = "arn:aws:iam::111122223333:role/state"
    }
    encrypt      = true
    use_lockfile = true
  }
}
"""
    (tmp_path / "backend.tf").write_bytes("\ufeff".encode() + text.encode())
    (tmp_path / "main.tf").write_text('resource "aws_vpc" "x" {\n  cidr_block = "10.1.0.0/16"\n}\n')
    backend = backend_of(tmp_path)
    assert backend["type"] == "s3" and backend["line"] == 2
    assert backend["config"]["encrypt"] is True and backend["config"]["use_lockfile"] is True
    assert backend["config"]["assume_role"]["role_arn"].endswith("role/state")
    assert "backend.tf" in parse_directory(tmp_path)


def test_bom_file_keeps_its_resources_lines_and_lifecycle(tmp_path):
    text = (
        'resource "aws_eks_cluster" "this" {\n  name = "x"\n'
        "  lifecycle {\n    prevent_destroy = true\n  }\n}\n"
    )
    (tmp_path / "main.tf").write_bytes("\ufeff".encode() + text.encode())
    (res,) = from_directory(tmp_path).resources
    assert res.address == "aws_eks_cluster.this" and res.values["name"] == "x"
    assert res.line == 1 and res.prevent_destroy is True
