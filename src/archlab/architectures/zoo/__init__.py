"""One module per architecture; each calls `registry.register` at import time."""
