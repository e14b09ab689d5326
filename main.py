#!/usr/bin/env python
"""The cdktf app: ``cdktf synth`` and ``make synth`` both run this file.

Every stack of every environment in ``config/`` is written to ``cdktf.out/``
(or ``$CDKTF_OUTDIR``); on a configuration error nothing is written.
``python main.py --help`` lists the environment variables it reads.
"""

import os
import sys

# jsii prints an end-of-life banner on Node 20 (still what these machines run).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from sophia_infra.synth import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
