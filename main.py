#!/usr/bin/env python
"""The cdktf app: ``cdktf synth`` and ``make synth`` both run this file.

Every stack of every environment in ``config/`` is written to ``cdktf.out/``
(or ``$CDKTF_OUTDIR``); on a configuration error nothing is written.
"""

import sys

from sophia_infra.synth import main

if __name__ == "__main__":
    sys.exit(main())
