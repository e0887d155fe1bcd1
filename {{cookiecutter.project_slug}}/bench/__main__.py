"""`python -m bench`: the benchmark's command line (see `cli`)."""

import sys

from .cli import main

sys.exit(main())
