"""Settings: the only reader of os.environ."""
