"""Fuzz tests. STUDIO_FUZZ_EXAMPLES sets the examples per property (150 by default, CI-sized); raise it locally."""

from __future__ import annotations

import os

EXAMPLES = int(os.environ.get("STUDIO_FUZZ_EXAMPLES", "150"))
