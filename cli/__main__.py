"""`python -m cli`: the command line (also `python -m inference`, its documented alias)."""

import sys

try:
    from cli.main import main
except KeyboardInterrupt:  # Ctrl-C while torch and transformers are still importing
    print("interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
