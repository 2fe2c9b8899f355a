"""podtools: podcast episodes to transcripts, chapters, mentions, summaries and show notes.

Importing podtools is cheap: torch, faster-whisper and spaCy are imported only by the stage
that needs them.
"""

import logging

__version__ = "0.1.0"

logging.getLogger("podtools").addHandler(logging.NullHandler())
