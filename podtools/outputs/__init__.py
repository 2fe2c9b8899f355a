"""Render stage: Episode -> the files a host publishes.

The package, from the bottom: :mod:`.views` (the transcript as paragraphs under chapter headings,
and rendering any template with them), :mod:`.notes` (summary, show notes, newsletter, YouTube
description and the episode page, over a view of the Episode), :mod:`.registry` (:data:`OUTPUTS`,
file name -> writer, and :func:`render`). The writers of the transcript formats are in
:mod:`podtools.formats`, those of chapters and mentions in their stages' ``outputs`` modules.
"""

from .registry import OUTPUTS, RenderContext, Writer, local_audio, render

__all__ = ["OUTPUTS", "RenderContext", "Writer", "local_audio", "render"]
