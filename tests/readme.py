"""What README.md promises, written down as the README says it, for the tests to hold the product
to (never read from the product's own constants, which a bug could change together with the
output)."""

# "What `ingest` writes", the table, file by file
INGEST_FILES = frozenset({
    "episode.json", "transcript.md", "transcript.txt", "transcript.srt", "transcript.vtt", "speakers.rttm",
    "chapters.json", "youtube_chapters.txt", "mentions.json", "mentions.csv", "summary.md", "show_notes.md",
    "newsletter.md", "youtube_description.txt", "episode.html", "transcript.json", "feed_tags.xml",
    "transcript.karaoke.vtt",
})
# `transcribe` writes episode.json and the transcripts
TRANSCRIBE_FILES = frozenset({"episode.json", "transcript.md", "transcript.txt", "transcript.srt", "transcript.vtt",
                              "transcript.json", "transcript.karaoke.vtt"})
# feed_tags.xml: "<podcast:soundbite> for 1-3 moments of 15-120 s"
SOUNDBITES_MIN, SOUNDBITES_MAX = 1, 3
SOUNDBITE_MIN_S, SOUNDBITE_MAX_S = 15.0, 120.0

# transcript.srt: "at most 2 lines of 32 characters a cue"
SRT_MAX_CHARS, SRT_MAX_LINES = 32, 2
# transcript.vtt: "lines of at most 65 characters"
VTT_MAX_CHARS = 65
