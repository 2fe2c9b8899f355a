"""Summarize stage: transcript -> chapter summaries, episode summary, TL;DR, takeaways, quotes.

With an LLM (:mod:`podtools.llm`) it is a map-reduce over prompt templates
(``templates/prompts/*.j2``): each chapter's transcript, cut into chunks that fit the model's
context once the prompt's own tokens and the answer's allowance are subtracted, is summarized
(map); the parts of a long chapter are merged; then the chapter digests are reduced to the
episode summary (grouped first when they do not fit either). Every transcript line goes into
exactly one chunk: nothing is dropped. The model sees lines as ``[id] Speaker: text`` and cites
segment ids; timestamps and speaker names in the output are looked up from the transcript by
those ids, so the model can neither invent a time nor misattribute a quote. Quotes must be found
in the cited segment (or the one after it) and are replaced by the transcript's own words.

Without an LLM (or where a chunk's answer is unusable) an extractive summarizer fills the same
structure with sentences chosen from the transcript by spaCy-based sentence scoring; such
summaries have ``method == "extractive"`` and the outputs say so.

The package: :mod:`.options` (settings, languages, categories), :mod:`.parts` (answer models,
sections, chunks, prompts), :mod:`.checks` (quotes, cited ids, language), :mod:`.extractive`,
:mod:`.mapreduce` (the LLM summarizer) and :mod:`.stage` (:func:`summarize`). Import from here.
"""

from .checks import LANGUAGE_CHECK_PROBABILITY, LANGUAGE_CHECK_WORDS, match_quote, written_in
from .extractive import Extractor
from .options import (LANGUAGES, PROMPT_VERSION, UNTIMED_SECTION_SECONDS, Category, SummarizeOptions, categories,
                      categorize)
from .parts import (ChunkDigest, CitedPoint, CitedQuote, Digest, Line, SummaryPart, chunk_lines, episode_digest_model,
                    render_prompt, summary_parts, transcript_line)
from .stage import SummarizeResult, prepare_llm, summarize, summarize_stage

__all__ = [
    "LANGUAGE_CHECK_PROBABILITY", "LANGUAGE_CHECK_WORDS", "LANGUAGES", "PROMPT_VERSION", "UNTIMED_SECTION_SECONDS",
    "Category", "ChunkDigest", "CitedPoint", "CitedQuote", "Digest", "Extractor", "Line", "SummaryPart",
    "SummarizeOptions", "SummarizeResult", "categories", "categorize", "chunk_lines", "episode_digest_model",
    "match_quote", "prepare_llm", "render_prompt", "summarize", "summarize_stage", "summary_parts", "transcript_line",
    "written_in",
]
