"""The embedded local stack: the same handlers as in Lambda, on moto's server, read from template.yaml.

Nothing here ships to AWS. ``python -m local`` (``make run``) starts it.
"""
