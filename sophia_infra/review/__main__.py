"""``python -m sophia_infra.review``: see :mod:`sophia_infra.review.cli`."""

import sys

from sophia_infra.review.cli import main

sys.exit(main())
