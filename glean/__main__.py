import sys

from glean.cli import main

sys.exit(main())
