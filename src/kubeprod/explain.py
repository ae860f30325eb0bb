"""`kubeprod explain`: for a requirement, the evidence an auditor asks for.

For each requirement of the catalogue (`kubeprod.requirements.Req`) and each cloud
of a spec: the rendered file:line(s) that meet it, read from the requirement tags
the renderers write as comments (`# SEC-8: ...` above the block or attribute); the
profile rules and gate rules that check it, with their tests; and the policy
gate's verdict on that render. Where a cloud's module does not meet it, the
reason from the cloud's `NOT_COVERED` map; CHG-* answer with the change-process
commands that meet them. Everything is computed from a fresh in-memory render of
the spec: nothing here is written by hand.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import tempfile
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from kubeprod.errors import InputError
from kubeprod.facts import CLOUDS, not_covered
from kubeprod.paths import render_dir
from kubeprod.policy.engine import check_directory
from kubeprod.policy.rules import REGISTRY
from kubeprod.render import baseline_texts, bootstrap_module, render_module
from kubeprod.requirements import PROCESS, Req, requirement_of
from kubeprod.spec import load_spec, profile
from kubeprod.spec.model import Environment

ROOT = Path(__file__).resolve().parents[2]  # the checkout (src/kubeprod/explain.py)
_ID = r"(?:CHR|NET|K8S|SEC|DR|CHG)-\d+"
_TAG = re.compile(rf"^(?P<indent> *)# (?P<ids>{_ID}(?:\s*/\s*{_ID})*)(?::\s?(?P<text>.*))?$")
_COMMENT = re.compile(r"^ *#")
_TEST_ID = re.compile(r"(?:^|_)(chr|net|k8s|sec|dr|chg)_?(\d+)(?=_|$)")

MET, SAME, NOT_COVERED, PROCESS_MET, GAP = "met", "see", "not-covered", "process", "gap"


@dataclass(frozen=True)
class Evidence:
    """One rendered construct a requirement tag annotates."""

    file: str  # as the default render writes it: infra/<env>/<cloud>/eks.tf
    line: int
    code: str  # the annotated line: `resource "aws_eks_cluster" "this" {`
    note: str  # the tag comment's text

    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Check:
    """A profile rule, gate rule or test that checks a requirement."""

    name: str
    where: str  # path:line in the checkout
    detail: str = ""


@dataclass
class CloudAnswer:
    cloud: str
    status: str  # met | see | not-covered | process | gap
    evidence: list[Evidence] = field(default_factory=list)
    reason: str = ""
    gate: str = ""  # worst status of the requirement's gate rules on this render
    findings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Answer:
    req: Req
    clouds: dict[str, CloudAnswer]
    profile_rules: list[Check]
    gate_rules: list[Check]
    tests: list[Check]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.req.value,
            "brief": self.req.brief,
            "family": self.req.family.value,
            "same_as": self.req.same_as.value if self.req.same_as else None,
            "process": PROCESS.get(self.req),
            "clouds": {c: asdict(a) for c, a in self.clouds.items()},
            "profile_rules": [asdict(c) for c in self.profile_rules],
            "gate_rules": [asdict(c) for c in self.gate_rules],
            "tests": [asdict(c) for c in self.tests],
        }


# -- evidence from the render ------------------------------------------------------------


def scan_tags(texts: dict[str, str]) -> dict[Req, list[Evidence]]:
    """Requirement -> the constructs its tags annotate, over file path -> rendered text.

    A top-level tag covers every top-level block up to the next top-level comment; a
    tag inside a block covers the line after it.
    """
    found: dict[Req, list[Evidence]] = {}
    for path, text in sorted(texts.items()):
        lines = text.split("\n")
        for index, line in enumerate(lines):
            match = _TAG.match(line)
            if not match:
                continue
            indent = match.group("indent")
            note = [(match.group("text") or "").strip()]
            after = index + 1
            while after < len(lines) and lines[after].startswith(indent + "#"):
                if _TAG.match(lines[after]):
                    break
                note.append(lines[after][len(indent) + 1 :].strip())
                after += 1
            # a tag in a manifest (YAML) annotates the line after it, as inside a block
            targets = _annotated(lines, after, top_level=not indent and not path.endswith(".yaml"))
            for req in _ids(match.group("ids")):
                for number in targets:
                    found.setdefault(req, []).append(
                        Evidence(path, number + 1, lines[number].strip(), " ".join(note).strip())
                    )
    return found


def _ids(text: str) -> list[Req]:
    out = []
    for part in re.findall(_ID, text):
        try:
            out.append(Req(part))
        except ValueError:
            continue
    return out


def _annotated(lines: list[str], start: int, *, top_level: bool) -> list[int]:
    """Indexes of the lines a tag ending before `start` annotates."""
    if not top_level:
        for index in range(start, len(lines)):
            if lines[index].strip() and not _COMMENT.match(lines[index]):
                return [index]
        return []
    heads = []
    while start < len(lines) and lines[start].startswith("#"):
        start += 1  # the rest of this comment (further tags in it annotate the same blocks)
    for index in range(start, len(lines)):
        line = lines[index]
        if line.startswith("#"):
            break
        if line and not line[0].isspace() and line.rstrip().endswith("{"):
            heads.append(index)
    return heads


def rendered_texts(env: Environment, spec: str, cloud: str) -> tuple[dict[str, str], str]:
    """(path -> text of the module and its state-backend module, the module's directory)."""
    out = render_dir(env.name, cloud)
    texts = {f"{out}/{n}": t for n, t in render_module(env, cloud, spec, out).items()}
    manifests = baseline_texts(env, cloud, spec, out)
    texts.update({f"{out}/kubernetes/{n}": t for n, t in manifests.items()})
    boot = f"{out}-bootstrap"
    texts.update({f"{boot}/{n}": t for n, t in bootstrap_module(env, cloud, spec, boot).items()})
    return texts, out


def gate_findings(texts: dict[str, str], module_dir: str) -> list[Any]:
    """The policy gate's findings on the rendered module (judged statically)."""
    with tempfile.TemporaryDirectory(prefix="kubeprod-explain-") as tmp:
        for path, text in texts.items():
            if path.startswith(module_dir + "/"):  # the module and its kubernetes/ manifests
                target = Path(tmp) / path[len(module_dir) + 1 :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        return check_directory(Path(tmp)).findings


# -- what checks a requirement -----------------------------------------------------------


def _where(obj: Any) -> str:
    file = Path(inspect.getsourcefile(obj) or "")
    line = inspect.getsourcelines(obj)[1]
    try:
        return f"{file.resolve().relative_to(ROOT).as_posix()}:{line}"
    except ValueError:
        return f"{file.name}:{line}"


@cache
def profile_rules() -> dict[Req, list[Check]]:
    """Requirement -> the production-profile rules that cite it."""
    out: dict[Req, list[Check]] = {}
    for func in profile.RULES:
        source = inspect.getsource(func)
        cited = set(re.findall(rf'"({_ID})"', source)) | {
            f"{m.group(1)}-{m.group(2)}" for m in re.finditer(r"Req\.([A-Z0-9]+)_(\d+)", source)
        }
        doc = (inspect.getdoc(func) or "").split("\n")[0]
        for req in _ids(" ".join(sorted(cited))):
            out.setdefault(req, []).append(Check(f"profile.{func.__name__}", _where(func), doc))
    return out


@cache
def gate_rules() -> dict[Req, list[Check]]:
    """Requirement -> the gate rules whose ID belongs to it, with how each cloud is judged."""
    out: dict[Req, list[Check]] = {}
    for rule_id, cls in sorted(REGISTRY.items()):
        req = requirement_of(rule_id)
        if req is not None:
            detail = f"{rule_id} {cls.title}"
            out.setdefault(req, []).append(Check(rule_id, _where(cls), detail))
    return out


@cache
def requirement_tests(tests_dir: Path = ROOT / "tests") -> dict[Req, list[Check]]:
    """Requirement -> tests named for it, citing its ID, or parametrized over a table keyed
    by requirement IDs (`test_mutation_fails_its_rule[SEC-8]`)."""
    out: dict[Req, list[Check]] = {}
    for path in sorted(tests_dir.glob("test_*.py")):
        if path.name in META_TESTS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
        tables = _id_tables(tree)
        for node in tree.body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            found = {f"{a.upper()}-{n}": "" for a, n in _TEST_ID.findall(node.name)}
            for c in ast.walk(node):
                if isinstance(c, ast.Constant) and re.fullmatch(_ID, str(c.value)):
                    found.setdefault(str(c.value), "")
            for deco in node.decorator_list:
                for name in {n.id for n in ast.walk(deco) if isinstance(n, ast.Name)}:
                    for rule_id in tables.get(name, ()):
                        found.setdefault(rule_id, f"[{rule_id}]")
            for req in _ids(" ".join(sorted(found))):
                suffix = found.get(req.value, "")
                check = Check(f"{rel}::{node.name}{suffix}", f"{rel}:{node.lineno}")
                out.setdefault(req, []).append(check)
    return out


# Tests of the catalogue itself cite every ID without testing the requirement.
META_TESTS = frozenset({"test_requirements.py", "test_explain.py"})


def _id_tables(tree: ast.Module) -> dict[str, set[str]]:
    """Module-level dicts keyed by requirement IDs, and the functions that read them."""
    tables: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            keys = {
                k.value
                for k in node.value.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
            ids = {k for k in keys if re.fullmatch(_ID, k)}
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if ids and isinstance(target, ast.Name):
                    tables[target.id] = ids
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("test_"):
            used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            ids = set().union(*(tables.get(name, set()) for name in used))
            if ids:
                tables[node.name] = ids
    return tables


# -- answers -----------------------------------------------------------------------------


def explain(
    env: Environment, spec: str, reqs: list[Req], clouds: list[str] | None = None
) -> list[Answer]:
    """The answer for each of `reqs` on each cloud of `env` (or `clouds`)."""
    chosen = clouds or [c for c in CLOUDS if getattr(env.clouds, c) is not None]
    per_cloud: dict[str, tuple[dict[Req, list[Evidence]], list[Any]]] = {}
    for cloud in chosen:
        texts, module_dir = rendered_texts(env, spec, cloud)
        per_cloud[cloud] = (scan_tags(texts), gate_findings(texts, module_dir))
    answers = []
    for req in reqs:
        answers.append(
            Answer(
                req,
                {c: _cloud_answer(req, c, *per_cloud[c]) for c in chosen},
                profile_rules().get(req, []),
                gate_rules().get(req, []),
                requirement_tests().get(req, []),
            )
        )
    return answers


def _cloud_answer(
    req: Req, cloud: str, tags: dict[Req, list[Evidence]], findings: list[Any]
) -> CloudAnswer:
    mine = [f for f in findings if requirement_of(f.rule_id) is req]
    gate = _worst([("waived" if f.waived else f.status) for f in mine])
    brief = [
        {"rule_id": f.rule_id, "status": f.status, "address": f.address, "message": f.message}
        for f in mine
    ]
    answer = CloudAnswer(cloud, GAP, gate=gate, findings=brief)
    if req in PROCESS:
        answer.status, answer.reason = PROCESS_MET, PROCESS[req]
    elif req in tags:
        answer.status, answer.evidence = MET, tags[req]
    elif req in not_covered(cloud):
        answer.status, answer.reason = NOT_COVERED, not_covered(cloud)[req]
    elif req.same_as is not None and req.same_as in tags:
        answer.status, answer.evidence = SAME, tags[req.same_as]
        answer.reason = f"met where {req.same_as} is (the brief restates it)"
    else:
        answer.reason = "no rendered block is tagged with it and no reason is declared"
    return answer


def _worst(statuses: list[str]) -> str:
    for status in ("fail", "unknown", "not-judged", "waived", "pass"):
        if status in statuses:
            return status
    return ""


def parse_requirement(text: str) -> Req:
    """`text` as a requirement ID, or an InputError listing the valid ones (exit 2)."""
    try:
        return Req.parse(text)
    except ValueError as exc:
        raise InputError(f"{exc}. Fix: pass one of them, or --all") from None


# -- output ------------------------------------------------------------------------------

_CLOUD_TITLES = {"aws": "AWS (EKS)", "azure": "Azure (AKS)", "gcp": "GCP (GKE)"}


def text(answer: Answer) -> str:
    """One requirement, for a terminal."""
    req = answer.req
    lines = [f"{req.value}  {req.brief}  ({req.family.value})"]
    if req.same_as:
        lines.append(f"  restates {req.same_as}")
    for cloud, a in answer.clouds.items():
        gate = f"; gate: {a.gate}" if a.gate else ""
        lines.append(f"{cloud}: {a.status}{gate}")
        for e in a.evidence:
            lines.append(f"  {e.where()}  {e.code}")
        if a.evidence:
            for note in dict.fromkeys(e.note for e in a.evidence):
                lines.append(f"    # {note}")
        if a.reason:
            lines.append(f"  {a.reason}")
        for f in a.findings:
            lines.append(f"  gate [{f['rule_id']}] {f['status']}: {f['address']}: {f['message']}")
    for title, checks in (
        ("profile rules", answer.profile_rules),
        ("gate rules", answer.gate_rules),
        ("tests", answer.tests),
    ):
        lines.append(f"{title}:" + ("" if checks else " none"))
        lines += [f"  {c.name}  ({c.where}){'  ' + c.detail if c.detail else ''}" for c in checks]
    return "\n".join(lines)


def markdown(answers: list[Answer], spec: str) -> str:
    """The whole matrix: a summary table, then every requirement's evidence."""
    clouds = list(answers[0].clouds) if answers else []
    out = [
        f"# Requirement evidence for `{spec}`",
        "",
        "Generated by `kubeprod explain --all`: rendered file:line per cloud (from the "
        "renderers' requirement tags), the rules that check each requirement, their tests, "
        "and the policy gate's verdict on this render.",
        "",
        "| ID | brief line | " + " | ".join(_CLOUD_TITLES[c] for c in clouds) + " |",
        "|---|---|" + "---|" * len(clouds),
    ]
    for a in answers:
        cells = [_summary_cell(a.req, a.clouds[c]) for c in clouds]
        out.append("| " + " | ".join(_cell(c) for c in [a.req.value, a.req.brief, *cells]) + " |")
    for a in answers:
        out += ["", f"## {a.req.value}: {a.req.brief}", "", f"Family: {a.req.family.value}."]
        if a.req.same_as:
            out.append(f"Restates {a.req.same_as}.")
        for cloud, c in a.clouds.items():
            gate = f" (gate: {c.gate})" if c.gate else ""
            out += ["", f"**{_CLOUD_TITLES[cloud]}**: {c.status}{gate}"]
            out += [f"- `{e.where()}` `{e.code}`: {e.note}" for e in c.evidence]
            if c.reason:
                out.append(f"- {c.reason}")
            out += [
                f"- gate `{f['rule_id']}` {f['status']}: `{f['address']}`: {f['message']}"
                for f in c.findings
            ]
        for title, checks in (
            ("Profile rules", a.profile_rules),
            ("Gate rules", a.gate_rules),
            ("Tests", a.tests),
        ):
            out += ["", f"{title}:" + (" none" if not checks else "")]
            out += [
                f"- `{c.name}` ({c.where}){': ' + c.detail if c.detail else ''}" for c in checks
            ]
    return "\n".join(out) + "\n"


def _summary_cell(req: Req, answer: CloudAnswer) -> str:
    gate = f", gate {answer.gate}" if answer.gate else ""
    if answer.status in (MET, SAME):
        files = dict.fromkeys(f"`{e.where()}`" for e in answer.evidence[:3])
        more = f" +{len(answer.evidence) - 3}" if len(answer.evidence) > 3 else ""
        prefix = f"see {req.same_as}: " if answer.status == SAME else ""
        return f"{prefix}{', '.join(files)}{more}{gate}"
    if answer.status == PROCESS_MET:
        return "change process"
    return f"{answer.status}{gate}"


def run_explain(args: Any) -> int:
    """The `kubeprod explain` command."""
    given = list(args.args)
    if args.all and len(given) != 1:
        raise InputError(
            "explain --all takes one argument, the spec. Fix: kubeprod explain --all SPEC"
        )
    if not args.all and len(given) != 2:
        raise InputError(
            "explain takes a requirement ID and a spec. Fix: kubeprod explain SEC-8 SPEC, "
            "or kubeprod explain --all SPEC"
        )
    reqs = list(Req) if args.all else [parse_requirement(given[0])]
    spec = given[-1]
    env = load_spec(spec)
    clouds = None
    if args.cloud:
        if getattr(env.clouds, args.cloud) is None:
            raise InputError(
                f"{spec} has no clouds.{args.cloud} section. Fix: add it, or drop --cloud"
            )
        clouds = [args.cloud]
    answers = explain(env, spec, reqs, clouds)
    fmt = args.format or ("json" if args.output == "json" else "markdown" if args.all else "text")
    if fmt == "json":
        body = json.dumps([a.as_dict() for a in answers], indent=2) + "\n"
    elif fmt == "markdown":
        body = markdown(answers, spec)
    else:
        body = "\n\n".join(text(a) for a in answers) + "\n"
    if args.out:
        Path(args.out).write_text(body, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        print(body, end="")
    return 0


# -- the README's feature table ----------------------------------------------------------

E2E_TESTS = ("tests/test_local_cloud_e2e.py", "tests/test_change_e2e.py")


def feature_table(answers: list[Answer]) -> str:
    """The README's feature table: per requirement and cloud, the files that meet it (or
    why not), and what checks it. Line numbers stay out so it changes only with tags."""
    module = [a for a in answers if a.req.in_module]
    process = [a for a in answers if not a.req.in_module]
    clouds = list(module[0].clouds) if module else []
    out = [
        "| ID | brief line | " + " | ".join(_CLOUD_TITLES[c] for c in clouds) + " | checked by |",
        "|---|---|" + "---|" * len(clouds) + "---|",
    ]
    for a in module:
        cells = [_feature_cell(a, c) for c in clouds]
        row = [a.req.value, a.req.brief, *cells, _checks(a)]
        out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    out += ["", "| ID | brief line | met by (every cloud) | checked by |", "|---|---|---|---|"]
    for a in process:
        row = [a.req.value, a.req.brief, PROCESS[a.req], _checks(a)]
        out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return text.replace("|", "\\|")


def _feature_cell(answer: Answer, cloud: str) -> str:
    c = answer.clouds[cloud]
    gate = f" (gate: {c.gate})" if c.gate not in ("", "pass") else ""
    if c.status in (MET, SAME):
        files = ", ".join(dict.fromkeys(f"`{e.file.split('/', 2)[2]}`" for e in c.evidence))
        applied = cloud == "aws" and any(t.where.startswith(E2E_TESTS) for t in answer.tests)
        how = "applied" if applied else "rendered"
        see = f" (as {answer.req.same_as})" if c.status == SAME else ""
        return f"{how}{see}: {files}{gate}"
    if c.status == NOT_COVERED:
        return f"not covered: {c.reason}{gate}"
    return f"**gap**: nothing rendered is tagged with it{gate}"


def _checks(answer: Answer) -> str:
    parts = []
    if answer.profile_rules:
        parts.append("profile")
    if answer.gate_rules:
        parts.append("gate " + ", ".join(c.name for c in answer.gate_rules))
    if answer.tests:
        parts.append("tests")
    return ", ".join(parts) or "-"


README = ROOT / "README.md"
TABLE_BEGIN = (
    "<!-- BEGIN feature table: generated from the requirement catalogue by "
    "`.venv/bin/python scripts/refresh_golden.py`; do not edit by hand -->"
)
TABLE_END = "<!-- END feature table -->"
EXAMPLE_SPEC = "examples/production.yaml"


def readme_table(root: Path = ROOT) -> str:
    """The feature table for the repository's example spec."""
    env = load_spec(root / EXAMPLE_SPEC)
    return feature_table(explain(env, EXAMPLE_SPEC, list(Req)))


def readme_section(text: str) -> str | None:
    """The generated table inside README text, or None without the markers."""
    if TABLE_BEGIN not in text or TABLE_END not in text:
        return None
    return text.split(TABLE_BEGIN, 1)[1].split(TABLE_END, 1)[0].strip("\n") + "\n"


def refresh_readme(readme: Path) -> bool:
    """Rewrite the table between the markers; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    current = readme_section(text)
    if current is None:
        raise ValueError(f"{readme}: no feature-table markers ({TABLE_BEGIN} ... {TABLE_END})")
    table = readme_table(readme.parent)
    if table == current:
        return False
    head, rest = text.split(TABLE_BEGIN, 1)
    tail = rest.split(TABLE_END, 1)[1]
    readme.write_text(f"{head}{TABLE_BEGIN}\n{table}{TABLE_END}{tail}", encoding="utf-8")
    return True
