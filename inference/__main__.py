import sys

try:
    from .cli import main
except KeyboardInterrupt:  # Ctrl-C while torch and transformers are still importing
    print("interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
