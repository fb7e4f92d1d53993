"""Wire formats both ends import (pydantic models) and the guarded URL fetch: the remote layer."""
