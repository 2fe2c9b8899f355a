"""Episodes for the summarize/render tests and benchmark, built from samples/script.json (no audio)."""

from __future__ import annotations

import random

from podtools.models import Chapter, Episode, Mention, Segment, Speaker

# (canonical, kind, text to look for)
NAMES = [
    ("Llama 3.1 405B", "model", "llama 3.1"),
    ("Mistral Large 2", "model", "mistral large"),
    ("GPT-4o mini", "model", "gpt-4o mini"),
    ("DeepSeek Coder V2", "model", "deepseek coder"),
    ("MMLU", "benchmark", "mmlu"),
    ("GSM8K", "benchmark", "gsm8k"),
    ("HumanEval", "benchmark", "humaneval"),
    ("SWE-bench Verified", "benchmark", "swe-bench"),
]


def mentions_for(segments: list[Segment]) -> list[Mention]:
    out = []
    for seg in segments:
        low = seg.text.lower()
        for canonical, kind, needle in NAMES:
            if needle in low:
                out.append(Mention(canonical=canonical, kind=kind, surface=needle, start=seg.start, end=seg.end,
                                   speaker=seg.speaker))
    return out


def script_episode(script: dict, chapters: bool = True, mentions: bool = True) -> Episode:
    segs = [Segment(start=t["start"], end=t["end"], text=t["text"], speaker=t["speaker"]) for t in script["turns"]]
    ep = Episode(id="0" * 64, source="samples/episode.mp3", title=script["title"], duration=script["duration"],
                 language="en", speakers=[Speaker(id=s["name"], name=s["name"]) for s in script["speakers"]],
                 segments=segs)
    if chapters:
        chs = script["chapters"]
        ep.chapters = [Chapter(start=c["start"], title=c["title"],
                               end=chs[i + 1]["start"] if i + 1 < len(chs) else script["duration"])
                       for i, c in enumerate(chs)]
    if mentions:
        ep.mentions = mentions_for(segs)
    return ep


TOPICS = [
    ("Open models", ["Meta released Llama 3.1 405B with open weights under a community license",
                     "Mistral Large 2 matches it on code with far fewer parameters",
                     "Qwen 2 and Gemma 2 keep the pressure on from smaller sizes"]),
    ("Big-lab APIs", ["OpenAI cut the price of GPT-4o mini to fifteen cents per million input tokens",
                      "Claude 3.5 Sonnet leads the coding leaderboard this week",
                      "Gemini 1.5 Pro now has a two million token context window"]),
    ("Benchmarks", ["MMLU is saturated, the top models all score near ninety percent",
                    "SWE-bench Verified uses real GitHub issues checked by engineers",
                    "GSM8K grade school math is almost solved by frontier models"]),
    ("Voice and audio", ["Whisper large v3 turbo transcribes eight times faster than before",
                         "ElevenLabs shipped a new text to speech model with emotion control",
                         "Realtime voice agents still struggle with interruptions"]),
    ("Video and vision", ["Runway Gen-3 makes ten second clips from a single prompt",
                          "Segment Anything 2 now tracks objects through video",
                          "Vision language models read charts better than last year"]),
    ("Tools", ["Cursor added an agent mode that edits many files at once",
               "Ollama makes running local models a one line command",
               "vLLM doubled throughput with chunked prefill"]),
]
FILLERS = ["I think that is a really important point for our listeners.",
           "Honestly, nobody expected it to move this fast.",
           "We will put the links in the show notes.",
           "The numbers are impressive, but always run the benchmarks yourself.",
           "That changes what small teams can build this year."]


def long_episode(minutes: float = 64.0, chapters: int = 12, seed: int = 7) -> Episode:
    """A synthetic AI-news episode of ``minutes`` with ``chapters`` chapters and five speakers."""
    rng = random.Random(seed)
    speakers = ["Alex", "Priya", "Sam", "Jordan", "Mei"]
    total = minutes * 60
    width = total / chapters
    segs: list[Segment] = []
    chs: list[Chapter] = []
    t = 0.0
    for c in range(chapters):
        title, facts = TOPICS[c % len(TOPICS)]
        chs.append(Chapter(start=round(c * width, 3), end=round((c + 1) * width, 3), title=f"{title} ({c + 1})"))
        while t < (c + 1) * width - 1:
            n = rng.randint(2, 4)
            text = " ".join(rng.choice(facts + FILLERS).rstrip(".") + "." for _ in range(n))
            dur = 4.0 + 2.2 * n + rng.random() * 3
            segs.append(Segment(start=round(t, 3), end=round(min(t + dur, total), 3), text=text,
                                speaker=rng.choice(speakers)))
            t += dur + 0.4
    return Episode(id="1" * 64, source="long.mp3", title="AI News Weekly #100", duration=total, language="en",
                   speakers=[Speaker(id=s, name=s) for s in speakers], segments=segs, chapters=chs,
                   mentions=mentions_for(segs))
