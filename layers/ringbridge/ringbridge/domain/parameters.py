"""What a webhook parameter's name may be (L2): checked at the edge and again before a name becomes a storage key.

Apart from ``domain/calls.py`` so that the edge (every function, the routing ping too) need not load the call model.
"""

from __future__ import annotations

import re

# A parameter name Ringostat (or a person) can type: bounded, printable, no separators or quotes.
PARAMETER_NAME = re.compile(r"^[A-Za-z0-9_.\-\[\]]{1,64}$")
