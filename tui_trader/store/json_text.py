"""`json.dumps(value, default=str)`, the same text, for what the engine writes with every order
(its audit row's detail, an order's meta).

`json.dumps` with a `default` builds a `JSONEncoder` and then its C encoder at each call:
~38,000 instructions for an order's nine-field audit detail (valgrind). The C encoder it
builds is built here once (the same arguments: `default=str`, ASCII, circular references
checked, NaN allowed, `", "` and `": "`): ~22,000. Where the C encoder is missing (a Python
without `_json`) or an encoding fails (a `__str__` that raises, a circular reference), it is
`json.dumps` itself, and the encoder is built afresh (its record of the containers it is in
may be left over from the failure).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder
from typing import Any

_Encode = Callable[[Any, int], Any]


def _build() -> _Encode | None:
    make = getattr(encoder, "c_make_encoder", None)
    if make is None:
        return None
    # json.dumps(value, default=str): JSONEncoder(default=str).iterencode(value, _one_shot=True)
    return make({}, str, encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)


_encode = _build()


def json_text(value: Any) -> str:
    """`json.dumps(value, default=str)`."""
    global _encode
    if _encode is not None:
        try:
            return "".join(_encode(value, 0))
        except Exception:
            _encode = _build()
    return json.dumps(value, default=str)
