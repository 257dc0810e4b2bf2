"""What ringbridge does, one module per use case, on the domain's ports (``domain/ports.py``).

Handlers call exactly one of these; ``ringbridge.wiring`` hands them their stores.
"""
