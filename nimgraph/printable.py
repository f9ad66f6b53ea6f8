"""Text safe to echo: a partner's value or a file name, quoted in a message, cannot drive the terminal or split a log.

Its own module because the spec loader, the readers, the engine, the CLI and the API all quote what they were
given, and none of them should import another just for this.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """``text`` on one line with control characters escaped (``\\x1b``), safe to echo to a terminal or log.

    >>> printable("Ref\\x1b[31m\\nDate")
    'Ref\\\\x1b[31m\\\\nDate'
    """
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))
