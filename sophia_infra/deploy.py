"""Deploy one environment under its deployment policy (the seed's ``deploymentConfig``).

    python -m sophia_infra.deploy <env> [--dry-run] [--force --reason TEXT] [--now ISO]
        [--out cdktf.out] [--previous-out DIR] [--approved-by TEXT] [--cdktf CMD]

What it does, in order, from ``config/<env>.yaml`` ``deployment:``:

1. **Window**: refuses outside ``window`` (``any`` / ``business-hours`` /
   ``maintenance-window``), naming the window and its next opening, unless
   ``--force --reason TEXT`` (the reason is printed in the summary and the log).
2. **Approval**: ``cdktf deploy --auto-approve`` only where ``auto_approve`` is
   true, or where an approval was given outside the terminal and is named with
   ``--approved-by`` (the pipeline's GitHub environment reviewers). Otherwise
   ``cdktf`` asks for each stack, which needs a terminal.
3. **Stacks**: the environment's stacks (``<function>-<env>`` in
   ``manifest.json``) but its account baseline (``baseline-<env>``: an account
   administrator deploys it, it defines the roles the pipeline runs as); with
   ``--previous-out`` (the synthesized output of the last deployed commit) only
   those that changed since, and what depends on them. ``--part`` narrows them to
   the stacks a runner can reach: ``aws`` (AWS APIs only: any runner) or
   ``kubernetes`` (the stacks that talk to the private EKS API, and every stack
   downstream of them: the in-VPC runner).
4. **Pre-deployment validation** (if enabled): ``terraform validate`` of those
   stacks (``python -m sophia_infra.validate``).
5. **Waves**: one ``cdktf deploy`` per wave of the dependency graph; stacks in a
   wave do not depend on each other and cdktf deploys them in parallel. The
   already synthesized, reviewed output is deployed as it is: ``--app true``
   makes cdktf's synth step a no-op, it then reads ``--output``.
6. **Post-deployment validation** (if enabled): ``terraform plan
   -detailed-exitcode`` of every deployed stack must report no remaining change.
7. **Rollback** (if ``rollback_on_failure``): when a wave fails, the stacks
   attempted so far are deployed again from ``--previous-out``, latest wave
   first. A new stack has no previous version and is left as it is.

``--dry-run`` checks the window and prints the exact commands without running them.
``--check-drift`` plans every stack of the environment instead (``terraform plan
-detailed-exitcode``), the baseline included, and exits 3 when the cloud differs
from the code; ``--part`` narrows it the same way.

Two facts every summary states, because a deployment must not rest on either silently:

* **The clock.** The window is judged at this machine's clock. ``--now`` judges it at
  another time and is accepted with ``--dry-run`` only: a preview. A real deployment
  outside the window takes ``--force --reason TEXT``, which is recorded.
* **The output.** ``--out`` must be what the working tree (config and code) synthesizes
  now (:mod:`sophia_infra.deploy_output`: synthesized again, a few seconds, and the
  environment's stacks compared byte for byte). Stale output is refused (dry runs
  included), naming the stacks that differ: run ``make synth``.

A missing ``cdktf``, ``terraform`` or ``node`` is one line naming it and how to get it,
after the plan, with exit code 2. SIGINT or SIGTERM during a deployment is passed on to the
running ``cdktf`` as SIGINT (Terraform then stops cleanly and releases its state lock),
and the summary says what was deployed before it.

Exit codes: 0 deployed (or dry run, or no drift), 1 failed, 2 refused by the
policy or bad usage, 3 drift found, 130/143 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

import sophia_config as config_mod
from sophia_infra import deploy_window, interrupts, tools

# The command is this module; what it runs lives by concept (and stays importable from here):
from sophia_infra.deploy_drift import check_drift, drift_commands
from sophia_infra.deploy_execute import execute
from sophia_infra.deploy_output import Freshness, compare_outputs, output_freshness
from sophia_infra.deploy_plan import (
    PARTS,
    PIPELINE_EXCLUDED,
    Plan,
    PolicyRefusal,
    cdktf_deploy,
    environment_graph,
    make_plan,
    needs_kubernetes_api,
    part_of,
    post_validation,
    render_plan,
    rollback_commands,
    select_stacks,
)
from sophia_infra.review import loader

__all__ = [
    "PARTS",
    "Freshness",
    "compare_outputs",
    "output_freshness",
    "PIPELINE_EXCLUDED",
    "Plan",
    "PolicyRefusal",
    "cdktf_deploy",
    "check_drift",
    "drift_commands",
    "environment_graph",
    "execute",
    "main",
    "make_plan",
    "needs_kubernetes_api",
    "part_of",
    "post_validation",
    "render_plan",
    "rollback_commands",
    "select_stacks",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sophia_infra.deploy", description=__doc__.split("\n\n")[0])
    parser.add_argument("environment")
    parser.add_argument("--dry-run", action="store_true", help="check the policy and print the commands only")
    parser.add_argument("--force", action="store_true", help="deploy outside the window (needs --reason)")
    parser.add_argument("--reason", help="why --force is needed; printed in the summary")
    parser.add_argument(
        "--now",
        help="with --dry-run only: preview the window at this time (ISO 8601; no offset = the environment's time zone)",
    )
    parser.add_argument("--out", default="cdktf.out", help="synthesized output to deploy (default: cdktf.out)")
    parser.add_argument("--previous-out", help="synthesized output of the last deployed commit: deploy only what changed, roll back to it")
    parser.add_argument("--approved-by", help="an approval given outside this terminal (allows --auto-approve where the policy does not)")
    parser.add_argument("--cdktf", help="the cdktf CLI command (default: $CDKTF_CLI, else the pinned node_modules/.bin/cdktf, else 'cdktf')")
    parser.add_argument("--first-deployment", action="store_true", help="nothing is deployed yet: no --previous-out to roll back to")
    parser.add_argument("--check-drift", action="store_true", help="plan every stack of the environment; exit 3 if any differs from the cloud")
    parser.add_argument(
        "--part",
        choices=PARTS,
        help="only the stacks that need AWS APIs alone (aws), or those that talk to the private Kubernetes API and "
        "what depends on them (kubernetes: run it on the in-VPC runner); default: every stack",
    )
    parser.add_argument("--config-dir", default=os.environ.get("SOPHIA_CONFIG_DIR", "config"))
    args = parser.parse_args(argv)
    if args.now and not args.dry_run:
        print(
            "deploy: --now goes with --dry-run only (a preview of the window at another time); a deployment is "
            "judged at this machine's clock. Deploy inside the window, or pass --force --reason TEXT.",
            file=sys.stderr,
        )
        return 2
    cdktf = shlex.split(args.cdktf) if args.cdktf else tools.cdktf_command()
    try:
        with interrupts.handled():
            return _main(args, cdktf)
    except interrupts.Interrupted as exc:
        print(f"deploy interrupted ({exc.name}) before anything was deployed", file=sys.stderr)
        return exc.exit_code


_RESYNTH = "run make synth (or synthesize the commit to deploy) and deploy that output"


def _main(args: argparse.Namespace, cdktf: list[str]) -> int:
    out = Path(args.out)
    try:
        env = config_mod.load(args.config_dir).environment(args.environment)
        if args.check_drift:
            fresh = output_freshness(out, env.name, args.config_dir)
            print(f"output: {fresh.detail}")
            if not fresh.matches:
                print(f"deploy: refusing to check drift against stale output: {_RESYNTH}", file=sys.stderr)
                return 2
            tools.require("terraform")
            return check_drift(out, env.name, dry_run=args.dry_run, part=args.part)
        policy = env.config.deployment
        plan = make_plan(
            env.name,
            policy,
            out=out,
            now=deploy_window.parse_now(args.now, policy),
            force=args.force,
            reason=args.reason,
            approved_by=args.approved_by,
            previous_out=Path(args.previous_out) if args.previous_out else None,
            cdktf=cdktf,
            interactive=args.dry_run or sys.stdin.isatty(),
            dry_run=args.dry_run,
            first_deployment=args.first_deployment,
            part=args.part,
        )
    except (tools.MissingTool, PolicyRefusal, config_mod.ConfigError, loader.ReviewError, ValueError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 2
    if args.now:
        plan.clock = "--now, dry run only"
    fresh = output_freshness(out, env.name, args.config_dir)
    plan.output = fresh.detail
    print(render_plan(plan), flush=True)
    if not fresh.matches:
        print(f"deploy: refusing to deploy output that does not match the working tree: {_RESYNTH}", file=sys.stderr)
        return 2
    if args.dry_run:
        return 0
    problem = tools.missing(cdktf) or tools.missing(["terraform"])
    if problem:
        print(f"deploy: nothing deployed: {problem}", file=sys.stderr)
        return 2
    return execute(plan, cdktf)


if __name__ == "__main__":
    sys.exit(main())
