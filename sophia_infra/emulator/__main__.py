"""``python -m sophia_infra.emulator up|down|status`` (make local-up / make local-down)."""

import sys

from sophia_infra.emulator.local import main

sys.exit(main())
