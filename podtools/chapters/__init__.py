"""Chapters stage: chapter lists from the user, the audio or the transcript; detection otherwise.

Sources, in the order of ``ChaptersOptions.sources`` (default: the first that has chapters wins):

- ``given``: ``--chapters FILE|TEXT``, a list of ``HH:MM:SS Title`` / ``MM:SS Title`` lines as
  in a YouTube description, or a Podcasting 2.0 chapters JSON;
- ``embedded``: chapters inside the audio (ID3 CHAP/CTOC via mutagen; MP4/M4A, Matroska and
  anything else ffmpeg reads via PyAV);
- ``transcript``: chapter headings of an imported transcript (``## [00:12:00] Title``);
- ``detected``: topic segmentation of the transcript (:func:`detect_chapters`).

Every chapter list is normalized the same way (sorted, duplicates and chapters past the end of
the audio dropped, empty titles filled, a chapter end is the next start), each fix reported
through ``warn``. Every segment belongs to exactly one chapter (:func:`segment_chapters`).

Outputs: Podcasting 2.0 ``chapters.json``, ``youtube_chapters.txt`` (YouTube's rules applied)
and ID3 CHAP/CTOC frames written into a copy of an MP3 (:func:`write_id3`).

The package: :mod:`.sources` (settings, lists, embedded chapters, normalization), :mod:`.detect`,
:mod:`.stage` (:func:`chapters_stage`) and :mod:`.outputs`. Import from here.
"""

from .detect import (STOPWORDS, cohesion_curve, detect_boundaries, detect_chapters, fill_titles, keyphrase_titles,
                     semantic_curve, topic_curve)
from .outputs import check_id3_source, to_podcasting2_json, to_youtube, write_id3, youtube_chapters
from .sources import (ASSIGN_TOLERANCE, RELATIVE_DEPTH, YOUTUBE_MIN_CHAPTER, YOUTUBE_MIN_COUNT, ChaptersOptions,
                      Source, Titler, chapter_index, chapter_texts, load_chapters, normalize, parse_chapter_list,
                      parse_podcasting2_chapters, read_embedded, segment_chapters)
from .stage import chapters_stage, follow_chapters

__all__ = [
    "ASSIGN_TOLERANCE", "RELATIVE_DEPTH", "STOPWORDS", "YOUTUBE_MIN_CHAPTER", "YOUTUBE_MIN_COUNT",
    "ChaptersOptions", "Source", "Titler", "chapter_index", "chapter_texts", "chapters_stage", "check_id3_source",
    "cohesion_curve", "detect_boundaries", "detect_chapters", "fill_titles", "follow_chapters", "keyphrase_titles",
    "load_chapters", "normalize", "parse_chapter_list", "parse_podcasting2_chapters", "read_embedded",
    "segment_chapters", "semantic_curve", "to_podcasting2_json", "to_youtube", "topic_curve", "write_id3",
    "youtube_chapters",
]
