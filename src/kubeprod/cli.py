"""The `kubeprod` command line. Thin: parse, call one function per command, print.

Heavy modules are imported inside the command functions so `--help` stays instant.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kubeprod.paths import render_dir

CLOUD_CHOICES = ("aws", "azure", "gcp")


def _emit(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    if getattr(args, "output", "text") == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    elif text:
        print(text)


def cmd_init(args: argparse.Namespace) -> int:
    from kubeprod.spec.example import write_example

    path = write_example(Path(args.path), force=args.force)
    _emit(args, {"written": str(path)}, f"wrote {path}; check it with `kubeprod validate {path}`")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from kubeprod.spec import load_spec

    env = load_spec(args.spec)
    clouds = [c for c in CLOUD_CHOICES if getattr(env.clouds, c) is not None]
    _emit(
        args,
        {"spec": args.spec, "valid": True, "name": env.name, "clouds": clouds},
        f"{args.spec}: valid {env.profile} environment '{env.name}' ({', '.join(clouds)})",
    )
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from kubeprod.spec.model import Environment

    print(json.dumps(Environment.model_json_schema(), indent=2, sort_keys=True))
    return 0


def cmd_versions(args: argparse.Namespace) -> int:
    from kubeprod.spec import versions

    data = {
        "as_of": versions.AS_OF,
        "standard_support": versions.STANDARD_SUPPORT,
        "newest_common": versions.newest_common(),
        "n_minus_one": versions.n_minus_one(),
    }
    text = "\n".join(
        [f"standard support as of {versions.AS_OF}:"]
        + [f"  {cloud}: {', '.join(v)}" for cloud, v in versions.STANDARD_SUPPORT.items()]
        + [f"N = {data['newest_common']}; production runs N-1 = {data['n_minus_one']}"]
    )
    _emit(args, data, text)
    return 0


def cmd_render(args: argparse.Namespace) -> int:
    from kubeprod.render import render_to
    from kubeprod.spec import load_spec

    env = load_spec(args.spec)
    out = Path(args.out or render_dir(env.name, args.cloud))
    result = render_to(env, args.cloud, args.spec, out)
    from kubeprod.policy.gate import enforce_directory

    enforce_directory(out, args.spec, env=env)
    _emit(
        args,
        {
            "out": str(out),
            "written": result.written,
            "unchanged": result.unchanged,
            "removed": result.removed,
            "kept": result.kept_own,
        },
        f"{out}: {len(result.written)} written, {len(result.unchanged)} unchanged, "
        f"{len(result.removed)} removed, {len(result.kept_own)} of your own kept",
    )
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from kubeprod.explain import run_explain

    return run_explain(args)


def cmd_check(args: argparse.Namespace) -> int:
    from kubeprod.policy.gate import run_check

    return run_check(args)


def cmd_bootstrap(args: argparse.Namespace) -> int:
    from kubeprod.change.bootstrapping import bootstrap

    result = bootstrap(
        args.spec, args.cloud, local=args.local, approve_by=getattr(args, "approve_by", None)
    )
    if "rendered" in result:
        text = (
            f"rendered the {args.cloud} state-backend module into {result['rendered']}; "
            "this machine has no provider for it: apply it with terraform where it is available"
        )
    else:
        text = f"state backend ready: {result['bucket']}"
    _emit(args, result, text)
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from kubeprod.change.planning import plan

    result = plan(args.spec, args.cloud, local=args.local)
    _emit(args, result, result["summary_text"])
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from kubeprod.workflow import up

    result = up(args.spec, args.cloud, local=args.local, quiet=args.output == "json")
    _emit(args, result, result["summary_text"])
    return 0


def cmd_local(args: argparse.Namespace) -> int:
    from kubeprod.local import server

    action: Callable[[], dict[str, Any]] = {
        "start": server.start,
        "stop": server.stop,
        "status": server.status,
    }[args.action]
    result = action()
    _emit(args, result, server.describe(result))
    return 0 if args.action != "status" or result.get("running") else 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kubeprod",
        description="Production Kubernetes on EKS, AKS and GKE from one reviewed spec.",
    )
    parser.add_argument("--output", choices=("text", "json"), default="text", help="result format")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def add(name: str, func: Callable[[argparse.Namespace], int], help_: str) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--output", choices=("text", "json"), default=argparse.SUPPRESS)
        p.set_defaults(func=func)
        return p

    p = add("init", cmd_init, "write a commented production spec with the brief's defaults")
    p.add_argument("path", nargs="?", default="environments/production.yaml")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")

    p = add("validate", cmd_validate, "check a spec and the production profile's rules")
    p.add_argument("spec")

    add("schema", cmd_schema, "print the spec's JSON Schema (for editors)")
    add("versions", cmd_versions, "Kubernetes versions in standard support and N-1")

    p = add("render", cmd_render, "write the Terraform root module for one cloud")
    p.add_argument("spec")
    p.add_argument("--cloud", choices=CLOUD_CHOICES, default="aws")
    p.add_argument("--out", help="output directory (default infra/<name>/<cloud>)")

    p = add("check", cmd_check, "policy gate: judge a plan JSON, saved plan or rendered dir")
    from kubeprod.policy.gate import add_arguments as add_check_arguments

    add_check_arguments(p)

    p = add("explain", cmd_explain, "a requirement's evidence: rendered file:line, rules, tests")
    p.add_argument("args", nargs="+", metavar="[ID] SPEC", help="a requirement ID and the spec")
    p.add_argument("--all", action="store_true", help="every requirement (the audit matrix)")
    p.add_argument("--cloud", choices=CLOUD_CHOICES, help="one cloud (default: the spec's)")
    p.add_argument(
        "--format", choices=("text", "markdown", "json"), help="default text; --all: markdown"
    )
    p.add_argument("--out", help="write to this file instead of standard output")

    for name, func, help_ in (
        ("bootstrap", cmd_bootstrap, "create the remote state backend (its own small module)"),
        ("plan", cmd_plan, "render, init and plan; report what would change"),
        ("up", cmd_up, "bootstrap if needed, render, validate, plan and apply"),
    ):
        p = add(name, func, help_)
        p.add_argument("spec")
        p.add_argument("--cloud", choices=CLOUD_CHOICES, default="aws")
        p.add_argument(
            "--local", action="store_true", help="target the embedded local cloud (moto)"
        )

        if name == "bootstrap":
            p.add_argument(
                "--approve-by",
                help="a second person approving a change to an existing state backend",
            )

    p = add("local", cmd_local, "the embedded local cloud: start, stop, status")
    p.add_argument("action", choices=("start", "stop", "status"))

    from kubeprod.change.commands import register as register_change_commands

    register_change_commands(add, _emit)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "command", None) == "explain" and not extra[0].startswith("-"):
        args.args += extra  # `explain ID --cloud C SPEC`: argparse stops at the option
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    from kubeprod.errors import KubeprodError

    try:
        return args.func(args)
    except KubeprodError as exc:
        if getattr(args, "output", "text") == "json":
            problems = [p.as_dict() for p in getattr(exc, "problems", [])]
            print(json.dumps({"error": str(exc), "problems": problems}, indent=2))
        else:
            print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file kubeprod had to read or write: say which, exit 2
        where = f" {exc.filename}" if exc.filename else ""
        print(
            f"error: cannot use{where}: {exc.strerror or exc}. Fix: check that the path "
            "exists and is readable/writable by you, and that the disk has space",
            file=sys.stderr,
        )
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
