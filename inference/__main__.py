"""`python -m inference`: the documented command, kept as a thin alias of the CLI (cli/), which lives in
the roots layer. The one import that runs up the layers, named as the exception in the import contract."""

import sys

try:
    from cli.main import main
except KeyboardInterrupt:  # Ctrl-C while torch and transformers are still importing
    print("interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
