"""`python -m symc` runs the command line, as the `symc` script does."""
import sys

from .cli import main

sys.exit(main())
