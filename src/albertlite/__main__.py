import sys

from albertlite.cli import main

sys.exit(main())
