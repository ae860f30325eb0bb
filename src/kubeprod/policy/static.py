"""A Terraform configuration directory as the policy model, evaluated as terraform would.

For configurations with no plan (AKS and GKE here, or any directory): python-hcl2 parses
each module directory once (cached by path and modification time), and
`kubeprod.policy.hcl_expr` evaluates every expression:

- input variables: defaults, `terraform.tfvars`, `terraform.tfvars.json` and
  `*.auto.tfvars` (lexical order) at the root; module call arguments below;
- `locals` (evaluated on demand, in any order), the functions modules use, conditionals,
  for-expressions, splats, templates and heredocs;
- `dynamic` blocks, expanded into the nested blocks they generate;
- `count` / `for_each` on resources and module calls (`count = 0` creates nothing; each
  instance gets its own address, `module.pools["user"].azurerm_..._pool.this[1]`);
- module outputs (`module.vpc.private_subnets`) and references to other resources'
  configured attributes (`aws_vpc.this.cidr_block`); local sources (`./x`) and installed
  ones (`.terraform/modules/modules.json`).

Only values that truly come from the cloud are UNKNOWN: data sources, attributes a
resource does not set (ids, ARNs), variables with neither a default nor a value, and
functions of files or time. A resource whose `count`/`for_each` cannot be known has one
instance, index `*`, whose attributes are all unknown, so rules say "unknown" about it
instead of judging a phantom.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from kubeprod.baseline.load import load_objects, manifest_dir
from kubeprod.errors import InputError
from kubeprod.policy import hcl_body
from kubeprod.policy.hcl_expr import (
    HclError,
    Obj,
    Scope,
    evaluate,
    evaluate_raw,
    parse_raw,
)
from kubeprod.policy.plan_model import (
    UNKNOWN,
    Model,
    Ref,
    Resource,
    apply_defaults,
    is_override,
    scan_resources,
)

_PARSED: dict[tuple[str, float, int], dict[str, dict[str, Any]]] = {}
_META = ("count", "for_each", "lifecycle", "depends_on", "provider", "provisioner", "connection")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def _cache_dir() -> Path | None:
    """Where parsed files are kept between runs (None: KUBEPROD_NO_CACHE is set)."""
    if os.environ.get("KUBEPROD_NO_CACHE"):
        return None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kubeprod" / "hcl"


def parse_text(text: str) -> dict[str, Any]:
    """One file's body in python-hcl2's shape: kubeprod's own parser (kubeprod.policy.
    hcl_body, no 0.4 s python-hcl2 start-up), python-hcl2 when that one cannot parse the
    file or KUBEPROD_HCL_PARSER=python-hcl2. python-hcl2's parses are kept on disk by
    content hash (it takes ~0.05 s a file after start-up); a corrupt entry is parsed again."""
    if os.environ.get("KUBEPROD_HCL_PARSER") != "python-hcl2":
        try:
            return hcl_body.parse_body(text)
        except (HclError, RecursionError):
            pass  # python-hcl2 decides, and names the syntax error if there is one
    cache = _cache_dir()
    entry = None
    if cache is not None:
        digest = hashlib.sha256(f"{_hcl2_version()}\0{text}".encode())
        entry = cache / f"{digest.hexdigest()}.json"
        try:
            return json.loads(entry.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    import hcl2  # lazy, for start-up time (see the docstring)
    from hcl2.utils import SerializationOptions

    parsed = hcl2.loads(text, serialization_options=SerializationOptions(with_comments=False))
    if entry is not None:
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            tmp = entry.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(parsed), encoding="utf-8")
            tmp.replace(entry)
        except OSError:
            pass  # a read-only home: no cache, same result
    return parsed


@lru_cache(maxsize=1)
def _hcl2_version() -> str:
    """Which python-hcl2 parsed (its installed files' identity; importlib.metadata and
    importing hcl2 itself would cost more than the cache saves)."""
    spec = importlib.util.find_spec("hcl2")
    origin = Path(spec.origin) if spec and spec.origin else None
    if origin is None:
        return "unknown"
    version = origin.parent / "version.py"  # written by the package's build
    if version.is_file():
        return version.read_text(encoding="utf-8")
    stat = origin.parent.joinpath("parser.py").stat()
    return f"{origin.parent}:{stat.st_mtime_ns}:{stat.st_size}"


def parse_directory(directory: Path) -> dict[str, dict[str, Any]]:
    """File name -> python-hcl2 body of every non-override `*.tf` (cached: a module tree
    calling one module sixteen times parses it once). A UTF-8 BOM is accepted."""
    directory = Path(directory).resolve()
    files = sorted(p for p in directory.glob("*.tf") if not is_override(p))
    stamp = max((p.stat().st_mtime for p in files), default=0.0)
    key = (str(directory), stamp, len(files))
    if key in _PARSED:
        return _PARSED[key]
    parsed: dict[str, dict[str, Any]] = {}
    for path in files:
        try:
            parsed[path.name] = parse_text(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 ({exc}). Fix: save the file as UTF-8") from None
        except Exception as exc:  # python-hcl2 raises lark errors of several kinds
            raise InputError(
                f"{path}: cannot parse the Terraform file: {exc}. Fix: run `terraform validate`"
            ) from None
    _PARSED[key] = parsed
    return parsed


def _blocks(parsed: dict[str, dict[str, Any]], kind: str) -> list[Any]:
    return [entry for body in parsed.values() for entry in body.get(kind, [])]


def _tfvars(directory: Path) -> dict[str, Any]:
    """Root variable values from terraform.tfvars(.json) and *.auto.tfvars(.json)."""
    values: dict[str, Any] = {}
    names = ["terraform.tfvars", "terraform.tfvars.json"]
    autos = sorted(p.name for p in directory.glob("*.auto.tfvars*"))
    for name in names + autos:
        path = directory / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8-sig")
        try:
            raw = json.loads(text) if name.endswith(".json") else parse_text(text)
        except Exception as exc:
            raise InputError(
                f"{path}: cannot parse the variable file: {exc}. Fix: run `terraform validate`"
            ) from None
        for key, value in raw.items():
            if not key.startswith("__"):
                values[key] = evaluate_raw(value, Scope()) if not name.endswith(".json") else value
    return values


def _installed_modules(root: Path) -> dict[str, Path]:
    manifest = root / ".terraform" / "modules" / "modules.json"
    if not manifest.is_file():
        return {}
    try:
        entries = json.loads(manifest.read_text()).get("Modules", [])
    except (OSError, ValueError):
        return {}
    return {m.get("Key", ""): root / m.get("Dir", "") for m in entries if m.get("Key")}


class _Lazy(Obj):
    """An object whose attributes are computed on first use (module.x, aws_vpc, ...)."""

    def __init__(self, compute: Any, names: list[str]):
        super().__init__()
        self._compute, self._names = compute, names

    def attr(self, name: str) -> Any:
        if name not in self:
            if name not in self._names:
                raise HclError(f"no {name!r} in this module")
            self[name] = self._compute(name)
        return self[name]


class _AllUnknown(Obj):
    """Something whose every attribute comes from the cloud."""

    def attr(self, name: str) -> Any:
        return UNKNOWN


# data sources whose list of zones modules take by position (`names[0]`, `slice(.., 0, 3)`):
# three distinct zones (what a region offers at least), each a Ref naming its position, so
# rules can refuse zones picked by list order (NET-5) and still count them as distinct.
_ZONE_SOURCES = {
    "aws_availability_zones": ("names", "zone_ids"),
    "google_compute_zones": ("names",),
}


class _DataSources(Obj):
    """`data.TYPE.NAME.ATTR`: values read from the cloud at plan time."""

    def attr(self, name: str) -> Any:
        zone_attrs = _ZONE_SOURCES.get(name)
        if not zone_attrs:
            return _AllUnknown()
        return _Lazy(lambda label: _zone_source(name, label, zone_attrs), _AnyName())


def _zone_source(dtype: str, label: str, attrs: tuple[str, ...]) -> Obj:
    values = {a: [Ref(f"data.{dtype}.{label}.{a}[{i}]") for i in range(3)] for a in attrs}
    return _ResourceObj(f"data.{dtype}.{label}", values)


class _AnyName(list):
    def __contains__(self, item: object) -> bool:
        return True


class _ResourceObj(Obj):
    """A resource as other expressions see it: configured attributes as configured; an
    identifier it does not set (`id`, `arn`, `*_id`, `*_arn`) is a Ref naming it; any
    other unset attribute is known only after apply."""

    def __init__(self, address: str, values: dict[str, Any]):
        super().__init__(values)
        self.address = address

    def attr(self, name: str) -> Any:
        if name in self:
            return self[name]
        if name in ("id", "arn") or name.endswith(("_id", "_arn")):
            return Ref(f"{self.address}.{name}")
        return UNKNOWN


class _Tree:
    """State shared by every module instance of one configuration."""

    def __init__(self, root: Path):
        self.root = root
        self.installed = _installed_modules(root)
        self.resources: list[Resource] = []


class ModuleInstance:
    """One instance of a module: its scope, resources and outputs."""

    def __init__(
        self,
        tree: _Tree,
        directory: Path,
        address: str,
        key: str,
        inputs: dict[str, Any],
        depth: int = 0,
    ):
        self.tree, self.directory, self.address, self.key = tree, directory, address, key
        self.depth = depth
        self.parsed = parse_directory(directory)
        self.scope = _ModuleScope(self)
        self.busy: set[str] = set()
        self.raw_locals: dict[str, Any] = {}
        for entry in _blocks(self.parsed, "locals"):
            self.raw_locals.update({k: v for k, v in entry.items() if not k.startswith("__")})
        self.variables = self._variables(inputs)
        self.resource_bodies: dict[str, dict[str, Any]] = {}
        for entry in _blocks(self.parsed, "resource"):
            for rtype, named in entry.items():
                for rname, body in named.items():
                    self.resource_bodies.setdefault(_unquote(rtype), {})[_unquote(rname)] = body
        self.module_bodies: dict[str, dict[str, Any]] = {}
        for entry in _blocks(self.parsed, "module"):
            for name, body in entry.items():
                self.module_bodies[_unquote(name)] = body
        self.scope.names.update(
            var=self.variables,
            local=_Lazy(self._local, list(self.raw_locals)),
            module=_Lazy(self._module_value, list(self.module_bodies)),
            data=_DataSources(),
            path=Obj(module=str(directory), root=str(tree.root), cwd=os.getcwd()),
            terraform=Obj(workspace="default"),
        )
        self.resource_values: dict[tuple[str, str], Any] = {}
        self.module_values: dict[str, Any] = {}

    def _variables(self, inputs: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for entry in _blocks(self.parsed, "variable"):
            for name, body in entry.items():
                name = _unquote(name)
                default = evaluate_raw(body["default"], Scope()) if "default" in body else UNKNOWN
                value = inputs.get(name, default)
                if value is None and body.get("nullable") is False:
                    value = default
                out[name] = value
        return out

    # -- lazy values -------------------------------------------------------------------

    def _guarded(self, key: str, compute: Any) -> Any:
        if key in self.busy:
            return UNKNOWN  # a cycle: terraform would refuse it; never a crash here
        self.busy.add(key)
        try:
            return compute()
        finally:
            self.busy.discard(key)

    def _local(self, name: str) -> Any:
        return self._guarded(
            "local." + name, lambda: evaluate_raw(self.raw_locals[name], self.scope)
        )

    def resource_value(self, rtype: str, rname: str) -> Any:
        """What `aws_vpc.this` evaluates to: the configured attributes (list/map by
        count/for_each); attributes the configuration does not set are unknown."""
        cache_key = (rtype, rname)
        if cache_key not in self.resource_values:
            body = self.resource_bodies[rtype][rname]

            def compute() -> Any:
                instances = _instances(body, self.scope)
                if instances is UNKNOWN:
                    return UNKNOWN
                base = f"{rtype}.{rname}"
                base = f"{self.address}.{base}" if self.address else base
                objs = {
                    k: _ResourceObj(
                        base if k is None else f"{base}[{_key_text(k)}]",
                        _objectify(_body_values(body, s)),
                    )
                    for k, s in instances
                }
                if "count" in body:
                    return [objs[k] for k in sorted(objs)]
                if "for_each" in body:
                    return objs
                return objs[None]

            self.resource_values[cache_key] = self._guarded(f"{rtype}.{rname}", compute)
        return self.resource_values[cache_key]

    def _module_value(self, name: str) -> Any:
        if name not in self.module_values:
            self.module_values[name] = self._guarded("module." + name, lambda: self._call(name))
        return self.module_values[name]

    def _call(self, name: str) -> Any:
        """Evaluate a module call: every instance, its resources collected, its outputs."""
        body = self.module_bodies[name]
        address = f"{self.address}.module.{name}" if self.address else f"module.{name}"
        key = f"{self.key}.{name}" if self.key else name
        directory = self._source_dir(body, key)
        if directory is None or self.depth >= 8:
            return _AllUnknown()
        instances = _instances(body, self.scope)
        if instances is UNKNOWN:
            return UNKNOWN
        outputs: dict[Any, Any] = {}
        for index, scope in instances:
            inputs = {
                k: evaluate_raw(v, scope)
                for k, v in body.items()
                if k not in ("source", "version", "providers", "count", "for_each", "depends_on")
                and not k.startswith("__")
            }
            child_address = address if index is None else f"{address}[{_key_text(index)}]"
            child = ModuleInstance(self.tree, directory, child_address, key, inputs, self.depth + 1)
            outputs[index] = child.run()
        if "count" in body:
            return [outputs[i] for i in sorted(outputs)]
        if "for_each" in body:
            return outputs
        return outputs[None]

    def _source_dir(self, body: dict[str, Any], key: str) -> Path | None:
        source = evaluate_raw(body.get("source", ""), Scope())
        if key in self.tree.installed and self.tree.installed[key].is_dir():
            return self.tree.installed[key]
        if isinstance(source, str) and source.startswith(("./", "../")):
            directory = (self.directory / source).resolve()
            return directory if directory.is_dir() else None
        return None

    # -- the module's resources ----------------------------------------------------------

    def refs(self, body: dict[str, Any], values: dict[str, Any]) -> dict[str, list[str]]:
        """What each attribute refers to: the expression's own references (with this
        module's path), plus the resources its evaluated value names through module
        inputs and outputs (a Ref such as `azurerm_key_vault_key.etcd.id`)."""
        prefix = f"{self.address}." if self.address else ""
        out = {path: sorted(prefix + n for n in names) for path, names in references(body).items()}

        def walk(value: Any, path: str) -> None:
            if isinstance(value, Ref) and not value.startswith("data."):
                out[path] = sorted({*out.get(path, []), str(value)})
            elif isinstance(value, dict):
                for k, v in value.items():
                    walk(v, f"{path}.{k}" if path else k)
            elif isinstance(value, list):
                blocks = all(isinstance(v, dict) for v in value) and value
                for i, v in enumerate(value):
                    walk(v, f"{path}.{i}" if blocks else path)

        walk(values, "")
        return out

    def provider_of(self, body: dict[str, Any]) -> str:
        """The provider configuration a root resource names (`aws.recovery`); "" for the
        default one, and inside modules (providers pass in by the module call)."""
        value = body.get("provider")
        if self.address or not isinstance(value, str):
            return ""
        return value.removeprefix("${").removesuffix("}").strip()

    def provider_regions(self) -> dict[str, Any]:
        """Provider configuration ("aws", "aws.recovery") -> its evaluated region."""
        found: dict[str, Any] = {}
        for entry in _blocks(self.parsed, "provider"):
            for name, body in entry.items():
                alias = evaluate_raw(body.get("alias"), self.scope) if "alias" in body else None
                key = _unquote(name) + (f".{alias}" if isinstance(alias, str) else "")
                found[key] = evaluate_raw(body.get("region"), self.scope)
        return found

    def run(self) -> Obj:
        """Collect this instance's resources (and its children's); return its outputs."""
        lines = scan_resources(self.directory)
        for rtype, named in self.resource_bodies.items():
            for rname, body in named.items():
                file, line, prevent = lines.get((rtype, rname), (None, None, False))
                base = f"{rtype}.{rname}"
                base = f"{self.address}.{base}" if self.address else base
                instances = _instances(body, self.scope)
                if instances is UNKNOWN:
                    values = {k: UNKNOWN for k in body if k not in _META and not k.startswith("__")}
                    self.tree.resources.append(
                        Resource(
                            f"{base}[*]",
                            rtype,
                            rname,
                            values,
                            self.address,
                            "*",
                            file,
                            line,
                            prevent,
                            action="unknown-instances",
                            refs=self.refs(body, values),
                        )
                    )
                    continue
                for index, scope in instances:
                    address = base if index is None else f"{base}[{_key_text(index)}]"
                    values = _body_values(body, scope)
                    values.setdefault("id", Ref(f"{address}.id"))
                    self.tree.resources.append(
                        Resource(
                            address,
                            rtype,
                            rname,
                            values,
                            self.address,
                            index,
                            file,
                            line,
                            prevent,
                            refs=self.refs(body, values),
                            provider=self.provider_of(body),
                        )
                    )
        for name in self.module_bodies:
            self._module_value(name)
        outputs = Obj()
        for entry in _blocks(self.parsed, "output"):
            for name, body in entry.items():
                outputs[_unquote(name)] = evaluate_raw(body.get("value"), self.scope)
        return outputs


class _ModuleScope(Scope):
    """Names of one module: var/local/module/data/path, and resource types."""

    def __init__(self, module: ModuleInstance):
        super().__init__({})
        self.module = module

    def missing(self, name: str) -> Any:
        bodies = self.module.resource_bodies.get(name)
        if bodies is None:
            raise HclError(f"unknown name {name}")
        return _Lazy(lambda rname: self.module.resource_value(name, rname), list(bodies))


def _objectify(value: Any) -> Any:
    """Resource values as objects: an attribute or block field the configuration does not
    set is computed by the provider, i.e. known after apply."""
    if isinstance(value, dict):
        return Obj({k: _objectify(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_objectify(v) for v in value]
    return value


_RESOURCE_REF = re.compile(
    r"(?<![\w.])((?:data\.)?[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][\w-]*)"
    r"((?:\[[^\]]*\])?(?:\.[A-Za-z_][\w-]*)?)"
)


def references(body: Any, path: str = "") -> dict[str, list[str]]:
    """Attribute path -> the references of its expressions: "azurerm_key_vault_key.etcd.id".

    Rules use this where the value itself is known only after apply but the wiring is
    what they judge: which key the cluster's KMS uses, what a role assignment waits for.
    """
    out: dict[str, list[str]] = {}
    if isinstance(body, dict):
        for key, value in body.items():
            if key.startswith("__") or key in ("lifecycle", "for_each", "count"):
                continue
            out.update(references(value, f"{path}.{_unquote(key)}" if path else _unquote(key)))
    elif isinstance(body, list):
        blocks = all(isinstance(v, dict) for v in body) and body
        for i, value in enumerate(body):
            found = references(value, f"{path}.{i}" if blocks else path)
            for key, names in found.items():
                out[key] = sorted({*out.get(key, []), *names})
    elif isinstance(body, str) and "${" in body:
        refs = {
            m.group(1) + re.sub(r"\[[^\]]*\]", "", m.group(2))
            for expr in re.findall(r"\$\{(.*?)\}", body, re.S)
            for m in _RESOURCE_REF.finditer(expr)
        }
        if refs:
            out[path] = sorted(refs)
    return out


def _key_text(key: Any) -> str:
    return str(key) if isinstance(key, int) else f'"{key}"'


def _instances(body: dict[str, Any], scope: Scope) -> Any:
    """[(index, scope)] for count/for_each (index None without them); UNKNOWN when the
    collection comes from the cloud."""
    if "for_each" in body:
        coll = evaluate_raw(body["for_each"], scope)
        if isinstance(coll, dict):
            if any(not isinstance(k, str) for k in coll):
                return UNKNOWN
            return [(k, scope.child(each=Obj(key=k, value=coll[k]))) for k in sorted(coll)]
        if isinstance(coll, list) and all(isinstance(k, str) for k in coll):
            return [(k, scope.child(each=Obj(key=k, value=k))) for k in sorted(set(coll))]
        return UNKNOWN
    if "count" in body:
        count = evaluate_raw(body["count"], scope)
        if isinstance(count, bool) or not isinstance(count, (int, float)):
            return UNKNOWN
        return [(i, scope.child(count=Obj(index=i))) for i in range(int(count))]
    return [(None, scope)]


def _body_values(body: dict[str, Any], scope: Scope, top: bool = True) -> dict[str, Any]:
    """A resource or nested block body as plan-JSON values: attributes evaluated, nested
    blocks as lists of dicts, `dynamic` blocks expanded."""
    out: dict[str, Any] = {}
    for key, raw in body.items():
        if key.startswith("__") or (top and key in _META):
            continue
        if key == "dynamic":
            for entry in raw:
                for label, dyn in entry.items():
                    name = _unquote(label)
                    generated = _dynamic(dyn, name, scope)
                    if generated is UNKNOWN:
                        out[name] = UNKNOWN
                    elif out.get(name) is not UNKNOWN:
                        out.setdefault(name, []).extend(generated)
            continue
        if _is_block_list(raw):
            out.setdefault(key, []).extend(_body_values(b, scope, False) for b in raw)
        else:
            out[key] = evaluate_raw(raw, scope)
    return out


def _is_block_list(raw: Any) -> bool:
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(b, dict) and b.get("__is_block__") for b in raw)
    )


def _dynamic(dyn: dict[str, Any], name: str, scope: Scope) -> Any:
    coll = evaluate_raw(dyn.get("for_each"), scope)
    if coll is UNKNOWN or not isinstance(coll, (dict, list)):
        return UNKNOWN if coll is not None else []
    iterator = str(dyn.get("iterator", name)).strip('"')
    if iterator.startswith("${"):
        iterator = iterator[2:-1].strip()
    content = (dyn.get("content") or [{}])[0]
    items = sorted(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))
    return [
        _body_values(content, scope.child(**{iterator: Obj(key=k, value=v)}), False)
        for k, v in items
    ]


def backend_from_parsed(directory: Path) -> dict[str, Any] | None:
    """The `terraform { backend "x" { ... } }` of a directory from its parsed HCL (nested
    blocks such as `assume_role {}` are fine); None when there is none."""
    for file, body in parse_directory(directory).items():
        for tf in body.get("terraform", []):
            for backend in tf.get("backend", []):
                for label, config in backend.items():
                    values = {
                        k: evaluate_raw(v, Scope())
                        for k, v in config.items()
                        if not k.startswith("__")
                    }
                    values = {
                        k: (v[0] if _is_block_list(config.get(k)) and len(v) == 1 else v)
                        for k, v in values.items()
                    }
                    path = Path(directory) / file
                    text = path.read_text(encoding="utf-8-sig")
                    m = re.search(r'^[ \t]*backend\s+"' + re.escape(_unquote(label)), text, re.M)
                    line = text.count("\n", 0, m.start()) + 1 if m else None
                    return {
                        "type": _unquote(label),
                        "config": values,
                        "file": str(path),
                        "line": line,
                    }
    return None


def backend_of(directory: Path) -> dict[str, Any] | None:
    """The backend of a configuration: .terraform/terraform.tfstate (after init), else the .tf."""
    initialised = Path(directory) / ".terraform" / "terraform.tfstate"
    if initialised.is_file():
        try:
            data = json.loads(initialised.read_text())
            backend = data.get("backend") or {}
            if backend.get("type"):
                return {
                    "type": backend["type"],
                    "config": backend.get("config") or {},
                    "file": str(initialised),
                }
        except (OSError, ValueError):
            pass
    try:
        found = backend_from_parsed(Path(directory))
    except InputError:
        found = None
    if found is not None:
        return found
    return {"type": "local", "config": {}, "file": None}


def from_directory(directory: Path) -> Model:
    """The model of the Terraform configuration in `directory` (and the modules it calls)."""

    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory. Fix: pass a rendered module directory")

    has_tf = any(directory.glob("*.tf"))
    # beside Terraform files only kubernetes/ holds manifests: the directory's own JSON and
    # YAML files are plans, tfvars and the like (a 160 KiB plan parsed as YAML took most
    # of a gate run)
    manifests_at = (
        (directory / "kubernetes" if (directory / "kubernetes").is_dir() else None)
        if has_tf
        else manifest_dir(directory)
    )
    manifests = load_objects(manifests_at) if manifests_at is not None else None
    if not has_tf:
        if manifests:
            return Model([], "manifests", path=str(directory), manifests=manifests)
        raise InputError(
            f"{directory} has no *.tf files and no Kubernetes manifests. Fix: pass the "
            "directory `kubeprod render` wrote, or a directory of manifests"
        )
    tree = _Tree(directory.resolve())
    root = ModuleInstance(tree, directory.resolve(), "", "", _tfvars(directory))
    try:
        outputs = dict(root.run())
    except RecursionError:
        raise InputError(
            f"{directory}: the configuration nests too deeply to evaluate. Fix: run "
            "`terraform plan` and check the plan JSON instead"
        ) from None
    for r in tree.resources:
        apply_defaults(r, lambda _res, _path: False)  # unset here is None, never unknown
    return Model(
        tree.resources,
        "directory",
        path=str(directory),
        outputs=outputs,
        backend=backend_of(directory),
        config_dir=directory,
        manifests=manifests if manifests_at is not None and manifests_at != directory else None,
        provider_regions=root.provider_regions(),
    )


__all__ = ["backend_from_parsed", "evaluate", "from_directory", "parse_directory", "parse_raw"]
