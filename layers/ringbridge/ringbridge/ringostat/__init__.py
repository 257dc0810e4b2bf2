"""Ringostat, translated: its webhook vocabulary (``webhook``) and its REST API (``client``).

The domain speaks ringbridge's words only; this package is where Ringostat's names,
status words and date formats become them, and where ringbridge calls Ringostat back.
"""
