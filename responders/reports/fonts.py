"""The CJK font reports draw with: one TrueType collection from Debian's font packages.

Charts (matplotlib) and the PDF (fpdf2) embed the same file, so Chinese reads
the same in both. ``make install`` installs ``fonts-wqy-zenhei`` when no CJK
font is present; a machine without one gets a message saying exactly that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from responders.errors import ResponderError

# Debian packages, best first: (file, family name inside the file, index in a .ttc collection)
CANDIDATES = (
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "WenQuanYi Zen Hei", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "Noto Sans CJK JP", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "WenQuanYi Micro Hei", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", "Droid Sans Fallback", 0),
)


class FontMissing(ResponderError):
    """No CJK font is installed, so Chinese would render as boxes."""


@dataclass(frozen=True)
class CJKFont:
    path: Path
    family: str
    index: int


def find_cjk_font() -> CJKFont:
    """The first installed CJK font of :data:`CANDIDATES`."""
    for path, family, index in CANDIDATES:
        if Path(path).is_file():
            return CJKFont(Path(path), family, index)
    raise FontMissing("no CJK font found: install fonts-wqy-zenhei (`make install` does it; "
                      "or apt-get install fonts-wqy-zenhei)")


def quiet_font_logs() -> None:
    """fontTools logs every table it cannot subset at WARNING; that is noise in a report run."""
    logging.getLogger("fontTools").setLevel(logging.ERROR)
