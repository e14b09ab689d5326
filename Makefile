# Two commands for a fresh machine (Python 3.11+, Node.js 20+):
#   make synth   synthesize every stack of every environment to cdktf.out/
#   make test    run the whole test suite
# Both install what they need first, and only when pyproject.toml, requirements.lock,
# package.json or package-lock.json changed since the last install: the Python packages
# into .venv, the pinned cdktf CLI (package-lock.json) into node_modules/ for `npx cdktf`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The CLI has its own stamp inside node_modules/: CI restores .venv from a cache (stamp
# included) but not node_modules/, which must then still be installed.
NODE_STAMP := node_modules/.installed
INSTALLED := $(STAMP) $(NODE_STAMP)

# jsii prints an end-of-life banner on Node 20; the cdktf CLI draws spinners without CI.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: synth test bench clean review validate e2e check local-up local-down

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	@command -v node >/dev/null || { echo "Node.js 20+ is required (jsii runs the cdktf libraries on it)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[test]'
	$(BIN)/python -m constructs_lib._lazy_assembly
	$(BIN)/python -O -m sophia_infra.precompile
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20+ with npm is required (the cdktf CLI is pinned in package-lock.json)"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

# -O: without jsii's runtime type checks (~10 % of a synthesis); the tests keep them.
# sophia_infra/precompile.py explains the bytecode step above. cdktf.json runs the same.
synth: $(INSTALLED)
	$(BIN)/python -O main.py

test: $(INSTALLED)
	$(BIN)/ruff check --quiet .
	$(BIN)/python -m pytest

# make review BASE=origin/main [FORMAT=json] [HEAD_OUT=cdktf.out]: the synthesized diff of
# the working tree against BASE (synthesized in a temporary git worktree), risks flagged.
FORMAT ?= markdown
review: $(INSTALLED)
	@test -n "$(BASE)" || { echo "usage: make review BASE=<git-ref> [FORMAT=json] [HEAD_OUT=cdktf.out]"; exit 2; }
	@$(BIN)/python -m sophia_infra.review --base-ref "$(BASE)" --format $(FORMAT) $(if $(HEAD_OUT),--head-out "$(HEAD_OUT)") $(REVIEW_ARGS)

# Terraform checks of the synthesized output (issue 6); each needs `terraform` on PATH and a
# provider mirror (found on the machine, or SOPHIA_TF_MIRROR). See docs/troubleshooting.md.
# validate: terraform init -backend=false + validate -json on every stack whose providers are here.
validate: synth
	$(BIN)/python -m sophia_infra.validate

# e2e: npx cdktf deploy/diff/output/destroy of state-bootstrap and the dev stacks on moto (a local
# AWS emulator), in build/e2e; docs/deployment.md, "The local emulator".
E2E_STAMP := .venv-e2e/.installed
$(E2E_STAMP): tools/e2e-requirements.lock
	test -x .venv-e2e/bin/python || $(PYTHON) -m venv .venv-e2e
	.venv-e2e/bin/python -m pip install --quiet --disable-pip-version-check -r tools/e2e-requirements.lock
	touch $@

e2e: synth $(E2E_STAMP)
	SOPHIA_E2E=1 $(BIN)/python -m pytest tests/e2e -m e2e -p no:cacheprovider

# local-up: the dev stacks on moto through `npx cdktf deploy`, no AWS account needed (README,
# "Try it locally"); the emulator keeps running until local-down destroys and stops it.
local-up: $(INSTALLED) $(E2E_STAMP)
	@$(BIN)/python -m sophia_infra.emulator up

local-down: $(INSTALLED)
	@$(BIN)/python -m sophia_infra.emulator down

# check: checkov over a null-stripped copy of every stack; skips justified in .checkov.yaml.
CHECKOV_STAMP := .venv-checkov/.installed
$(CHECKOV_STAMP): tools/checkov-requirements.lock
	test -x .venv-checkov/bin/python || $(PYTHON) -m venv .venv-checkov
	.venv-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r tools/checkov-requirements.lock
	touch $@

check: synth $(CHECKOV_STAMP)
	$(BIN)/python -m sophia_infra.security_check

# scan-workflows: zizmor over .github/ (workflows and the composite action), offline, with
# the pedantic persona so that no finding is hidden; any finding not accepted with a reason
# in .github/zizmor.yml fails it (zizmor exits non-zero), and so does a file it cannot parse.
ZIZMOR_STAMP := .venv-zizmor/.installed
$(ZIZMOR_STAMP): tools/zizmor-requirements.lock
	test -x .venv-zizmor/bin/python || $(PYTHON) -m venv .venv-zizmor
	.venv-zizmor/bin/python -m pip install --quiet --disable-pip-version-check -r tools/zizmor-requirements.lock
	touch $@

.PHONY: scan-workflows
scan-workflows: $(ZIZMOR_STAMP)
	.venv-zizmor/bin/zizmor --offline --persona=pedantic --strict-collection --no-progress --config .github/zizmor.yml .github/

bench: $(INSTALLED)
	$(BIN)/python bench/bench_synth.py

# An emulator's state file under build/ is how local-down finds it: never delete it from under a running one.
clean:
	@for d in build/local build/e2e; do test ! -f $$d/emulator.json || { echo "clean: $$d/emulator.json records an emulator: run python -m sophia_infra.emulator down --workdir $$d (make local-down) first"; exit 1; }; done
	rm -rf cdktf.out .pytest_cache build
