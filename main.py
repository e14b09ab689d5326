#!/usr/bin/env python
"""The cdktf app: ``cdktf synth`` and ``make synth`` both run this file.

Every stack of every environment in ``config/`` is written to ``cdktf.out/``
(or ``$CDKTF_OUTDIR``); on a configuration error nothing is written.
``python main.py --help`` lists the environment variables it reads.
"""

import gc
import sys

# A synthesis is a short batch run that keeps nearly everything it builds until it exits:
# the cyclic garbage collector freed ~3,000 objects in total but cost 0.12-0.15 s, ~10 % of
# Python's CPU (with the eager provider import of tests/test_determinism.py: 4.5 s of 8.5).
gc.disable()

from sophia_infra.synth import main  # noqa: E402

if __name__ == "__main__":
    code = main(sys.argv[1:])
    # Python's own teardown still runs one full collection over everything alive (~240,000
    # objects: provider bindings, jsii proxies), disabled collector or not: 0.35-0.45 s, more
    # than the whole app.synth(). Frozen objects are skipped; exit handlers still run.
    gc.freeze()
    sys.exit(code)
