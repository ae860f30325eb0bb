"""One resource model for the policy rules, built from a plan JSON or a rendered directory.

A `Resource` has its full address (module path and index included), its type,
its attribute values in the plan JSON shape (nested blocks are lists of dicts)
and where it is written (file and line) when the configuration is at hand.
Values terraform only knows after apply are the `UNKNOWN` marker, both in
plans (from `after_unknown`) and in directories (expressions that cannot be
evaluated statically), so a rule judges both sources the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubeprod.baseline.load import load_objects
from kubeprod.errors import InputError


class _Unknown:
    """A value known only after apply (or not statically evaluable)."""

    _instance: _Unknown | None = None

    def __new__(cls) -> _Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    def __bool__(self) -> bool:
        return False


UNKNOWN: Any = _Unknown()
MISSING: Any = None


def is_unknown(value: Any) -> bool:
    return value is UNKNOWN


class Ref(str):
    """A value known after apply that the configuration takes from another resource or a
    data source; the text names where (`aws_subnet.private[0].id`,
    `data.aws_availability_zones.available.names[1]`). It proves the attribute is set
    (a key ARN, a subnet ID) and lets rules follow it to that resource; it never stands
    for a literal value."""

    def __repr__(self) -> str:
        return f"({self} after apply)"


def from_data_source(value: Any) -> bool:
    return isinstance(value, Ref) and value.startswith("data.")


# Documented provider/API defaults for attributes the rules read, applied when the
# configuration does not set them (the plan shows them "known after apply"):
# - EKS CreateNodegroup capacityType: "ON_DEMAND" when omitted (AWS provider docs,
#   aws_eks_node_group `capacity_type`; EKS API reference, CreateNodegroup).
# - EKS VpcConfigRequest publicAccessCidrs: "The default value is 0.0.0.0/0" and
#   endpointPublicAccess defaults to true, endpointPrivateAccess to false (EKS API
#   reference, VpcConfigRequest; AWS provider docs, aws_eks_cluster vpc_config).
# - EKS CreateNodegroup amiType: omitted (and no image in the launch template), EKS picks
#   its optimised AMI for the version (AL2023_x86_64_STANDARD from 1.30; EKS API reference,
#   CreateNodegroup amiType); CUSTOM only when a launch template names an image.
PROVIDER_DEFAULTS: dict[str, dict[str, Any]] = {
    "aws_eks_node_group": {"capacity_type": "ON_DEMAND", "ami_type": "AL2023_x86_64_STANDARD"},
    "aws_eks_cluster": {
        "vpc_config.0.public_access_cidrs": ["0.0.0.0/0"],
        "vpc_config.0.endpoint_public_access": True,
        "vpc_config.0.endpoint_private_access": False,
    },
}


def apply_defaults(res: Resource, unset: Any) -> None:
    """Put the documented default where `unset(res, path)` says the configuration leaves
    an attribute out (only inside blocks the resource has)."""
    for path, default in PROVIDER_DEFAULTS.get(res.type, {}).items():
        parent_path, _, leaf = path.rpartition(".")
        parent = dig(res.values, parent_path) if parent_path else res.values
        if not isinstance(parent, dict):
            continue
        current = parent.get(leaf)
        if current is None or (current is UNKNOWN and unset(res, path)):
            parent[leaf] = json.loads(json.dumps(default))
            res.defaults.append(path)


@dataclass
class Resource:
    """One managed resource instance."""

    address: str
    type: str
    name: str
    values: dict[str, Any]
    module: str = ""  # "module.eks.module.node_group[\"x\"]", "" at the root
    index: Any = None
    file: str | None = None
    line: int | None = None
    prevent_destroy: bool | None = None  # None: the configuration is not at hand
    action: str = "create"
    # Attribute path ("key_management_service.0.key_vault_key_id", "depends_on") -> the
    # resources its expression refers to ("azurerm_key_vault_key.etcd"); from directories.
    refs: dict[str, list[str]] = field(default_factory=dict)
    defaults: list[str] = field(default_factory=list)  # attributes given provider defaults
    origins: dict[str, str] = field(default_factory=dict)  # attribute -> data source it took
    provider: str = ""  # its provider configuration ("aws.recovery"); "" the default one

    @property
    def config_address(self) -> str:
        """The address without instance keys: `module.a.aws_x.y`."""
        module = strip_keys(self.module)
        return f"{module}.{self.type}.{self.name}" if module else f"{self.type}.{self.name}"

    def get(self, path: str, default: Any = MISSING) -> Any:
        """A value by dotted path; list indexes are numbers: `vpc_config.0.subnet_ids`."""
        return dig(self.values, path, default)


def dig(value: Any, path: str, default: Any = MISSING) -> Any:
    for part in path.split("."):
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(value, dict):
            if part not in value:
                return default
            value = value[part]
        elif isinstance(value, list) and part.isdigit():
            if int(part) >= len(value):
                return default
            value = value[int(part)]
        else:
            return default
    return value


def strip_keys(address: str) -> str:
    return re.sub(r"\[[^\]]*\]", "", address)


STATE_STORAGE = ("aws_s3_bucket", "azurerm_storage_account", "google_storage_bucket")
CLUSTERS = ("aws_eks_cluster", "azurerm_kubernetes_cluster", "google_container_cluster")


@dataclass
class Model:
    """Every managed resource of one configuration, plus what else rules need."""

    resources: list[Resource]
    source: str  # "plan" or "directory"
    path: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    backend: dict[str, Any] | None = None  # {"type": "s3", "config": {...}}; None: not at hand
    config_dir: Path | None = None
    # Kubernetes objects of the in-cluster baseline (render dir's kubernetes/ or a
    # directory of plain manifests); None when no manifests were given.
    manifests: list[dict[str, Any]] | None = None
    # Provider configuration ("aws", "aws.recovery") -> its evaluated `region` (UNKNOWN
    # when only known after apply); None when the configuration is not at hand.
    provider_regions: dict[str, Any] | None = None

    def of(self, *types: str) -> list[Resource]:
        return [r for r in self.resources if r.type in types]

    def state_backend(self) -> bool:
        """A state-backend module (what `kubeprod bootstrap` applies): a state bucket or
        storage account and no cluster. The gate judges only its DR-2 / DR-4 there."""
        return bool(self.of(*STATE_STORAGE)) and not self.of(*CLUSTERS)

    def providers(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type.split("_", 1)[0]] = counts.get(r.type.split("_", 1)[0], 0) + 1
        return counts


# -- plan JSON -----------------------------------------------------------------------------


def _overlay_unknown(values: Any, unknown: Any) -> Any:
    """Put UNKNOWN where `after_unknown` says so."""
    if unknown is True:
        return UNKNOWN
    if isinstance(unknown, dict):
        base = dict(values) if isinstance(values, dict) else {}
        for key, flag in unknown.items():
            base[key] = _overlay_unknown(base.get(key), flag)
        return base
    if isinstance(unknown, list):
        base_list = list(values) if isinstance(values, list) else []
        for i, flag in enumerate(unknown):
            if i < len(base_list):
                base_list[i] = _overlay_unknown(base_list[i], flag)
            else:
                base_list.append(_overlay_unknown(None, flag))
        return base_list
    return values


def _walk_modules(module: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for res in module.get("resources", []) or []:
        yield module.get("address", ""), res
    for child in module.get("child_modules", []) or []:
        yield from _walk_modules(child)


def validate_plan_shape(plan: Any) -> None:
    if not isinstance(plan, dict) or "format_version" not in plan:
        raise InputError(
            "this is not a terraform plan JSON (no format_version). Fix: pass the output of "
            "`terraform show -json PLANFILE`, a saved plan file, or a rendered directory"
        )
    if "planned_values" not in plan and "resource_changes" not in plan:
        raise InputError(
            "the plan JSON has neither planned_values nor resource_changes. Fix: pass a plan "
            "(`terraform show -json PLANFILE`), not a state or configuration dump"
        )


# Evaluates a configuration directory into a Model (policy.static.from_directory); passed
# in by the engine so this module, which static builds on, never imports static.
DirectoryEvaluator = Callable[[Path], "Model"]


def from_plan(
    plan: dict[str, Any],
    config_dir: Path | None = None,
    path: str = "",
    evaluate_directory: DirectoryEvaluator | None = None,
) -> Model:
    """The model of a plan (`terraform show -json`), resources in child modules included.
    With `config_dir`, file:line, prevent_destroy and the backend come from its .tf files;
    with `evaluate_directory` as well, unknown leaves the configuration proves are filled."""
    validate_plan_shape(plan)
    changes = {c["address"]: c for c in plan.get("resource_changes", []) or []}
    resources: list[Resource] = []
    seen: set[str] = set()
    root = (plan.get("planned_values") or {}).get("root_module") or {}
    for module_address, res in _walk_modules(root):
        if res.get("mode", "managed") != "managed":
            continue
        address = res["address"]
        seen.add(address)
        change = changes.get(address, {}).get("change", {})
        values = _overlay_unknown(res.get("values") or {}, change.get("after_unknown") or {})
        actions = change.get("actions") or ["no-op"]
        resources.append(
            Resource(
                address=address,
                type=res["type"],
                name=res["name"],
                values=values,
                module=module_address or changes.get(address, {}).get("module_address", ""),
                index=res.get("index"),
                action="-".join(actions),
            )
        )
    for address, c in changes.items():  # resources planned without planned_values entries
        if address in seen or c.get("mode", "managed") != "managed":
            continue
        change = c.get("change", {})
        if change.get("actions") == ["delete"]:
            continue
        values = _overlay_unknown(change.get("after") or {}, change.get("after_unknown") or {})
        resources.append(
            Resource(
                address,
                c["type"],
                c["name"],
                values,
                module=c.get("module_address", ""),
                index=c.get("index"),
                action="-".join(change.get("actions") or []),
            )
        )
    outputs = {
        name: o.get("value", UNKNOWN)
        for name, o in ((plan.get("planned_values") or {}).get("outputs") or {}).items()
    }
    for r in resources:
        if r.values.get("id") is UNKNOWN:
            r.values["id"] = Ref(f"{r.address}.id")
    model = Model(resources, "plan", path=path, outputs=outputs, config_dir=config_dir)
    model.provider_regions, provider_keys = _plan_providers(plan)
    for r in model.resources:
        r.provider = "" if r.module else provider_keys.get(r.config_address, "")
    static: dict[str, dict[str, Any]] | None = None
    if config_dir is not None and any(Path(config_dir).glob("*.tf")):
        static = _attach_configuration(model, Path(config_dir), plan, evaluate_directory)
    expressions = config_expressions(plan)

    def unset(res: Resource, path: str) -> bool:
        if static is not None and res.address in static:
            return dig(static[res.address], path) is None
        exprs = expressions.get(res.config_address)
        return exprs is not None and dig(exprs, path) is None

    for r in model.resources:
        apply_defaults(r, unset)
    if config_dir is not None and (Path(config_dir) / "kubernetes").is_dir():
        model.manifests = load_objects(Path(config_dir) / "kubernetes")
    return model


def _plan_providers(plan: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The plan's provider configurations -> region (a constant, else UNKNOWN), and each
    root resource's aliased provider ("aws.recovery"; the default one is left out)."""
    configuration = plan.get("configuration") or {}
    providers = configuration.get("provider_config")
    if not isinstance(providers, dict):
        return None, {}
    regions: dict[str, Any] = {}
    for key, config in providers.items():
        if "module_address" in config:
            continue
        region = (config.get("expressions") or {}).get("region") or {}
        regions[key] = region.get("constant_value", UNKNOWN if region else None)
    keys = {
        f"{r['type']}.{r['name']}": r["provider_config_key"]
        for r in (configuration.get("root_module") or {}).get("resources") or []
        if "." in str(r.get("provider_config_key", ""))
    }
    return regions, keys


def config_expressions(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Config address -> the `expressions` of its resource block in the plan's
    `configuration` (what the configuration sets, and what each value references)."""
    out: dict[str, dict[str, Any]] = {}

    def walk(module: dict[str, Any], prefix: str) -> None:
        for res in module.get("resources", []) or []:
            address = f"{prefix}.{res.get('address')}" if prefix else str(res.get("address"))
            out[address] = res.get("expressions") or {}
        for name, call in (module.get("module_calls") or {}).items():
            child = f"{prefix}.module.{name}" if prefix else f"module.{name}"
            walk(call.get("module") or {}, child)

    walk((plan.get("configuration") or {}).get("root_module") or {}, "")
    return out


def _module_dirs(config_dir: Path, plan: dict[str, Any]) -> dict[str, Path]:
    """Config module path ("", "module.eks", ...) -> its directory, for local or installed ones."""
    dirs: dict[str, Path] = {"": config_dir}
    installed: dict[str, str] = {}
    manifest = config_dir / ".terraform" / "modules" / "modules.json"
    if manifest.is_file():
        try:
            for m in json.loads(manifest.read_text()).get("Modules", []):
                installed[m.get("Key", "")] = m.get("Dir", "")
        except (OSError, ValueError):
            installed = {}

    def walk(calls: dict[str, Any], prefix: str, key_prefix: str, base: Path) -> None:
        for name, call in (calls or {}).items():
            address = f"{prefix}.module.{name}" if prefix else f"module.{name}"
            key = f"{key_prefix}.{name}" if key_prefix else name
            source = str(call.get("source", ""))
            directory: Path | None = None
            if installed.get(key):
                directory = config_dir / installed[key]
            elif source.startswith(("./", "../")):
                directory = (base / source).resolve()
            if directory is not None and directory.is_dir():
                dirs[address] = directory
                walk((call.get("module") or {}).get("module_calls", {}), address, key, directory)

    root = (plan.get("configuration") or {}).get("root_module") or {}
    walk(root.get("module_calls", {}), "", "", config_dir)
    return dirs


def _attach_configuration(
    model: Model,
    config_dir: Path,
    plan: dict[str, Any],
    evaluate_directory: DirectoryEvaluator | None,
) -> dict[str, dict[str, Any]] | None:
    """Files, lines and prevent_destroy from the .tf sources beside the plan; the backend."""
    dirs = _module_dirs(config_dir, plan)
    blocks: dict[str, tuple[str, int, bool]] = {}
    for module, directory in dirs.items():
        for (rtype, rname), (file, line, prevent) in scan_resources(directory).items():
            key = f"{module}.{rtype}.{rname}" if module else f"{rtype}.{rname}"
            blocks[key] = (file, line, prevent)
    for r in model.resources:
        found = blocks.get(r.config_address)
        if found:
            r.file, r.line, r.prevent_destroy = found
        elif strip_keys(r.module) in dirs:
            r.prevent_destroy = None
    if evaluate_directory is None:
        return None
    return _fill_from_configuration(model, config_dir, evaluate_directory)


def _fill_from_configuration(
    model: Model, config_dir: Path, evaluate_directory: DirectoryEvaluator
) -> dict[str, dict[str, Any]] | None:
    """Values the plan shows as known after apply, read from the evaluated configuration
    where it proves them (a literal beside an unknown leaf, a reference to another
    resource's ID); zones taken from a data source are recorded as such. Returns the
    configuration's values by address (None when the directory cannot be evaluated)."""
    try:
        static_model = evaluate_directory(config_dir)
    except InputError:
        return None
    model.backend = static_model.backend
    model.provider_regions = static_model.provider_regions
    configured = {r.address: r for r in static_model.resources}
    for r in model.resources:
        if r.address in configured:
            # which provider it uses, and what its expressions refer to (the plan keeps
            # neither in its values)
            r.provider = configured[r.address].provider
            r.refs = r.refs or configured[r.address].refs
    static = {r.address: r.values for r in static_model.resources}
    emptied = emptied_by_override(config_dir)
    planned = {r.address for r in model.resources}
    for r in static_model.resources:
        if r.config_address in emptied and r.address not in planned:
            r.action = "judged-from-configuration"
            model.resources.append(r)
    ignored = ignored_by_override(config_dir)
    for r in model.resources:
        literal = static.get(r.address)
        if not literal or literal is r.values:
            continue
        r.values = _fill_unknown(r.values, literal)
        for key, value in literal.items():
            if from_data_source(value):
                r.origins[key] = value
            elif isinstance(value, list) and any(from_data_source(v) for v in value):
                r.origins[key] = next(v for v in value if from_data_source(v))
        for key in ignored.get(r.config_address, []):
            if key in literal and literal[key] is not UNKNOWN:
                r.values[key] = literal[key]
    return static


def _fill_unknown(planned: Any, configured: Any) -> Any:
    """The plan's value with each unknown leaf replaced by the configuration's value."""
    if planned is UNKNOWN:
        return configured
    if isinstance(planned, dict) and isinstance(configured, dict):
        return {k: _fill_unknown(v, configured.get(k, UNKNOWN)) for k, v in planned.items()}
    if (
        isinstance(planned, list)
        and isinstance(configured, list)
        and len(planned) == len(configured)
    ):
        return [_fill_unknown(p, c) for p, c in zip(planned, configured, strict=True)]
    return planned


# -- static scanning of .tf files ----------------------------------------------------------

_RESOURCE_RE = re.compile(r'^[ \t]*resource\s+"([^"]+)"\s+"([^"]+)"\s*\{', re.M)
_PREVENT_RE = re.compile(r"prevent_destroy\s*=\s*true")


_SCANNED: dict[tuple[str, float, int], dict[tuple[str, str], tuple[str, int, bool]]] = {}


def scan_resources(directory: Path) -> dict[tuple[str, str], tuple[str, int, bool]]:
    """(type, name) -> (file, line, prevent_destroy) for every resource block of a directory.

    A text scan (no HCL parse): fast, and exact for line numbers. prevent_destroy is read
    from the block's own text, up to the next top-level block.
    """
    directory = Path(directory).resolve()
    files = sorted(directory.glob("*.tf"), key=lambda p: (is_override(p), p.name))
    stamp = (str(directory), max((p.stat().st_mtime for p in files), default=0.0), len(files))
    if stamp in _SCANNED:
        return _SCANNED[stamp]
    found: dict[tuple[str, str], tuple[str, int, bool]] = {}
    _SCANNED[stamp] = found
    for path in files:
        text = path.read_text(encoding="utf-8-sig")
        matches = list(_RESOURCE_RE.finditer(text))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            nxt = re.search(r"^\S", text[m.end() : end], re.M)
            body = text[m.end() : m.end() + nxt.start()] if nxt else text[m.end() : end]
            line = text.count("\n", 0, m.start()) + 1
            prevent = bool(_PREVENT_RE.search(_strip_comments(body)))
            key = (m.group(1), m.group(2))
            if is_override(path) and key in found:
                # override files merge into the original block: they change prevent_destroy
                # only by setting it
                if "prevent_destroy" in _strip_comments(body):
                    found[key] = (found[key][0], found[key][1], prevent)
                continue
            found[key] = (str(path), line, prevent)
    return found


def is_override(path: Path) -> bool:
    return path.name == "override.tf" or path.name.endswith("_override.tf")


_EMPTIED_RE = re.compile(
    r'^\s*resource\s+"([^"]+)"\s+"([^"]+)"\s*\{\s*for_each\s*=\s*\{\s*\}\s*\}', re.M
)


def ignored_by_override(directory: Path) -> dict[str, list[str]]:
    """Config address -> attributes an override file adds to ignore_changes. kubeprod's
    local-cloud override does this where the embedded cloud does not store a setting, so
    the plan shows the cloud's (empty) value instead of the configuration's."""
    out: dict[str, list[str]] = {}
    for path in Path(directory).glob("*.tf"):
        if not is_override(path):
            continue
        text = _strip_comments(path.read_text(encoding="utf-8-sig"))
        matches = list(_RESOURCE_RE.finditer(text))
        for i, m in enumerate(matches):
            end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
            found = re.search(r"ignore_changes\s*=\s*\[([^\]]*)\]", text[m.end() : end])
            if found:
                attrs = [a.strip() for a in found.group(1).split(",") if a.strip()]
                out[f"{m.group(1)}.{m.group(2)}"] = [a for a in attrs if re.fullmatch(r"\w+", a)]
    return out


def emptied_by_override(directory: Path) -> set[str]:
    """Config addresses an override file removes (`for_each = {}`): kubeprod's local-cloud
    override does this for APIs the embedded cloud lacks (EKS add-ons, access entries)."""
    out: set[str] = set()
    for path in Path(directory).glob("*.tf"):
        if is_override(path):
            text = _strip_comments(path.read_text(encoding="utf-8-sig"))
            out.update(f"{t}.{n}" for t, n in _EMPTIED_RE.findall(text))
    return out


def _strip_comments(text: str) -> str:
    return re.sub(r"(#|//)[^\n]*", "", text)
