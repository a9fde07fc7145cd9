"""zctui: the Hebei professional-title application in a terminal."""

import os

__version__ = "0.1.0"

# Chinese input methods commit several characters at once; under the kitty keyboard protocol
# Textual's parser turns a commit of five or more characters into garbage keystrokes. So the
# protocol is off unless ZCTUI_KITTY_KEYS=1 asks for it. This must run before Textual loads.
if os.environ.get("ZCTUI_KITTY_KEYS") != "1":
    os.environ.setdefault("TEXTUAL_DISABLE_KITTY_KEY", "1")
