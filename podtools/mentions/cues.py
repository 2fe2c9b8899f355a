"""What the words around a name say, for :mod:`.resolve`: the word lists (determiners, model cues,
size nouns, person titles, quantity words) and the token tests built on them (a version said
alone or a quantity, a sentence start, a name that is a person's or part of another name, a
product with its own version). Imports only the mentions' NLP tables.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Optional

VERSION_TOKEN = re.compile(r"^\d{1,2}\.\d{1,2}$")
# words before "405B" that make it a reference to a model just named ("a 7B model" is not one)
DETERMINERS = {"the", "that", "this", "its", "their", "our", "his", "her", "bigger", "smaller", "largest", "smallest"}
# words between a determiner and a size that keep the pair a reference ("the new 32B", "that old 70B")
SIZE_ADJECTIVES = {"new", "old", "big", "little", "tiny", "huge", "original", "latest", "full", "dense", "base",
                   "distilled", "quantized", "same", "other"}
# an MoE's active parameters written after its total ("30B A3B", "235B-A22B"): part of the size said
ACTIVE_SIZE = re.compile(r"^-?A\d{1,3}(\.\d)?B$")
MODEL_CUES = {"model", "models", "llm", "llms", "checkpoint", "checkpoints", "weights", "chatbot"}
# words said only where AI is talked about, that let a name of the long tail written as any name is
# ("Koala", "bar exam") stand for the model or benchmark (not "run", "open", "version": said of anything)
AI_TALK = MODEL_CUES | {"benchmark", "benchmarks", "bench", "leaderboard", "eval", "evals", "parameters", "params",
                        "fine-tune", "finetune", "fine-tuned", "quant", "quantized", "inference", "gpu", "gpus",
                        "api", "open-source", "open-weights", "multimodal", "transformer", "ai"}
# words after a size said alone that keep it a model's size ("the eight billion one", "70 billion
# parameters"); any other content word makes it a size of something else ("8 billion people")
SIZE_NOUNS = MODEL_CUES | {"parameter", "parameters", "param", "params", "one", "ones", "version", "versions",
                           "variant", "variants", "total", "active", "dense", "moe", "instruct", "base", "chat"}
# what a number counts, said after it: plurals that are no verbs ("the 72 hours", "the 120 tokens")
COUNT_NOUNS = frozenset(
    "seconds minutes hours days weeks months years times points percent dollars bucks cents euros pounds tokens "
    "gigs gigabytes terabytes people users folks miles feet inches meters kilometers pages lines steps questions "
    "problems tasks examples samples languages episodes bits layers experts heads stars votes calls requests "
    "chips cards gpus".split())
UNITLESS = re.compile(r"^\d{3,4}$")  # "a 405 on my laptop": only long numbers are sizes without a unit
TWO_DIGITS = re.compile(r"^\d{2}$")  # "the 72 is at the top": a size without its unit, in a subject's place
ONE_DIGIT_SIZES = frozenset({"7", "8", "9"})  # "the eight is really nice": 7B, 8B, 9B, said as one digit
# words after a size said alone that keep it in a model's place ("serving the seventy at like stupid
# speed", "the seventy for code", "the seventy and the eight")
SIZE_JOINERS = frozenset({"at", "for", "on", "with", "from", "and", "or", "over", "versus", "vs", "than"})
PLURAL_VERBS = frozenset({"are", "were", "have", "do", "'re", "'ve"})  # "the eight are": a count
CURRENCY = {"$", "€", "£", "¥", "usd", "dollars", "dollar"}
CAMEL = re.compile(r"^[a-zA-Z][a-z]*[A-Z][a-z]+$")  # "iPhone", "MacBook": a device's name, whose variant follows
CHIP = re.compile(r"^[A-Z]{1,3}\d{1,3}$")  # "M4", "A17": a chip or a device, whose variant follows ("M4 Pro")
BENCHMARK_TAILS = frozenset({"bench", "Bench", "Eval", "QA"})  # how benchmark names end: "EQ bench", "AGI Eval"
SPACED_TAILS = frozenset({"bench", "Bench", "Eval"})  # after an acronym and a space ("IT QA" is a team)
_BENCHMARK_WORD = re.compile(r"^([A-Za-z0-9]{2,})(Bench|bench|Eval|QA)$")  # "MLBench", "CRUXEval", "RealWorldQA"
ACRONYM_WORD = re.compile(r"^[A-Z][A-Z0-9]{1,5}$")  # one token that is an acronym ("EQ", "AGI")
# "LLM eval", "UI QA": generic acronyms before a benchmark's tail are words, not names
GENERIC_ACRONYMS = frozenset({"ai", "ml", "llm", "llms", "nlp", "api", "apis", "gpu", "cpu", "qa", "ui", "ux", "us",
                              "uk", "eu", "ok", "tv", "pr", "ceo", "cto", "faq", "it", "hr", "pc"})


def plain_english(tokens, is_word: Callable[[str], bool]) -> bool:
    """Whether the words among ``tokens`` are English words written in lower case ("tell you",
    "error code"): ordinary speech, not a name written as one."""
    words = [t for t in tokens if t.is_alpha]
    return bool(words) and all(w.is_lower and is_word(w.lower_) for w in words)


def benchmark_shaped(text: str) -> bool:
    """Whether one word has a benchmark's shape: a part with a capital or a digit, then Bench, Eval
    or QA written as a word of its own ("KontextBench", "CRUXEval", "RealWorldQA"), or "bench"
    after a capital inside the first part ("MLbench"); not "Workbench", "Testbench" or "retrieval"."""
    m = _BENCHMARK_WORD.match(text)
    if m is None:
        return False
    head, tail = m.groups()
    if tail == "bench":
        return any(ch.isupper() or ch.isdigit() for ch in head[1:])
    return any(ch.isupper() or ch.isdigit() for ch in head)


SMALL_NUMBER = re.compile(r"^\d{1,2}(\.\d{1,2})?$")
SPELLED_LETTERS = re.compile(r"^(?:[A-Z]\. ?){2,}$")  # "L. M.": letters said one by one, merged into one token
# prepositions of place before "the" that make a word in lower case a place ("inside the arena", "at the
# arena"; the capitalized "in the Arena" is the name)
PLACE_PREPOSITIONS = frozenset({"in", "inside", "into", "onto", "at", "across", "around", "outside", "near", "through",
                                "behind", "beyond", "from", "to"})
# words between the sizes of a list ("the 8B and the 70B", "7B, 13B, and 34B"; "the" not after a
# name's own size: "on LLaMA 65 B, and the nine B is" starts another clause) and the words that open
# one ("Three sizes, seven B, thirteen B")
LIST_GLUE = frozenset({",", "and", "or", "the", "plus", "then", ";"})
SIZE_LIST_WORDS = frozenset({"sizes", "flavors", "flavours", "variants"})  # (not "as for size, 70B is")
LETTER_DOT = re.compile(r"^[A-Z]\.$")  # "O." of "O. 1 mini": a letter said alone
# words before a name that make it a person's ("my uncle Claude", "Dr Gemma")
PERSON_TITLES = {"uncle", "aunt", "auntie", "cousin", "grandpa", "grandma", "grandfather", "grandmother", "nephew",
                 "niece", "mr", "mrs", "ms", "dr", "saint", "st", "sister", "brother", "son", "daughter", "mom",
                 "dad", "mother", "father", "wife", "husband"}
# people one also calls a model ("my buddy ChatGPT"): a title of a person only before a person's name
# ("my friend Aya", "my neighbor Claude"), not before one written as no word is
SOCIAL_TITLES = {"friend", "buddy", "colleague", "coworker", "boss", "neighbor", "neighbour", "roommate", "boyfriend",
                 "girlfriend"}
# what a benchmark has, said after a word of its name ("the arena score", "the arena problem")
RESULT_NOUNS = frozenset({"score", "scores", "number", "numbers", "result", "results", "ranking", "rankings", "rank",
                          "leaderboard", "elo", "rating", "ratings", "problem", "votes", "questions", "tasks"})
# what follows "the arena" said of the leaderboard ("the arena is what I look at", "the arena thing"), and
# the words before "the arena." ending a phrase ("And the arena?", "like the arena.", "about the Arena.")
ARENA_SAID = frozenset({"is", "'s", "has", "rewards", "thing", "stuff"}) | RESULT_NOUNS
# nouns after a benchmark's word that make it the topic ("the arena thing", "the arena mess") and the
# adjectives between "the" and that word ("the whole arena controversy", "the main arena")
TOPIC_NOUNS = frozenset({"thing", "things", "stuff", "mess", "controversy", "drama", "saga", "situation", "debate",
                         "fiasco", "scandal"})
# words of a sentence that rank models ("the arena is a vibes benchmark"): a benchmark's word there is it
RANKING_WORDS = frozenset({"benchmark", "benchmarks", "leaderboard", "leaderboards", "elo", "score", "scores",
                           "rank", "ranks", "ranked", "ranking", "rankings", "eval", "evals", "vibes"})
TOPIC_ADJECTIVES = frozenset({"whole", "main", "actual", "real", "official", "original", "new", "old"})
ARENA_BEFORE = frozenset({"and", "about", "like", "than", "on"})
ENTER_LEAVE = frozenset("enter enters entered entering re-entered leave leaves left leaving exit exits exited "
                        "fill fills filled".split())  # "Apple enters the arena": a place, said as a metaphor
ZODIAC = frozenset({"aries", "taurus", "gemini", "cancer", "leo", "virgo", "libra", "scorpio", "sagittarius",
                    "capricorn", "aquarius", "pisces"})  # "a Gemini": a star sign said of a person
OWNERS = frozenset({"my", "your", "his", "her", "its", "our", "their", "named"})  # "my Emma Lou", "my R2"
FILLERS = frozenset({"okay", "ok", "yes", "yeah", "well", "oh", "right", "sure", "um", "uh", "hey", "hi", "wow"})
GREETINGS = {"hi", "hello", "hey", "thanks", "bye", "welcome", "sorry", "congrats", "cheers"}  # "sorry, Claude."
PRONOUNS = {"i", "you", "he", "she", "we", "they"}
# a word right before one of these is a verb, not a name said alone: "Distill it, sell it", "flash them"
OBJECT_PRONOUNS = {"it", "them", "him", "me", "us"}
# words before a variant word said bare in lower case that make it a common noun: a status ("in
# preview") or a naming ("called mini", "named mini")
NOT_OBJECT_OF = {"in", "called", "named", "dubbed"}
# words that set one thing against another: a variant word after them is a model set against a model
CONTRASTS = {"than", "versus", "vs", "not"}
BE_FORMS = {"'m", "am", "are", "'re", "is", "'s", "was", "were"}
# words after a subject that say a verb comes: auxiliaries, modals, and adverbs said before a verb
VERB_LEADS = {"has", "have", "had", "'ve", "does", "did", "do", "can", "could", "will", "'ll", "would", "'d", "should",
              "might", "may", "must", "still", "also", "just", "really", "actually", "never", "always", "even",
              "only", "probably", "basically", "definitely", "kind", "sort"}
# "it's 24 billion", "which is 14B": a size said of the thing just named is what it is, not a new mention
REFERRING_PRONOUNS = {"it", "that", "which", "this"}
TRAIL = re.compile(r"(?:['\u2019]s|[\s.,;:!?)\]\"'\u2019\u201d-])+$")
LEAD = re.compile(r"^[\s(\[\"'\u2018\u201c]+")


def size_text(tokens) -> str:
    parts = [t.norm_ for t in tokens]
    return "".join(parts[:-1]) + parts[-1].upper()


QUANTITY_BEFORE = {"around", "about", "roughly", "approximately", "nearly", "almost", "than", "over", "under",
                    "by", "of", "$", "€", "£", "~", "<", ">", "+", "-"}
QUANTITY_AFTER = {"%", "percent", "x", "times", "points", "point", "percentage", "e", "k", "m", "b", "t", "bn",
                  # a unit said after it: "one point two billion parameters", "one point two cents in",
                  # "the one point five eight bit quant", "two point five gigs"
                  "billion", "million", "trillion", "thousand", "cents", "cent", "dollars", "dollar", "bucks",
                  "seconds", "minutes", "hours", "days", "weeks", "months", "years", "bit", "bits", "gb", "gigs",
                  "gigabytes", "tb", "mb", "percentile", "stars", "star", "kilos", "kg", "pounds", "lbs",
                  "grams", "miles", "km", "meters", "degrees", "inches", "feet"}


def version_alone(doc, s: int, e: int) -> bool:
    """Whether the number at ``doc[s:e]`` may be a version said alone, not a quantity: nothing glued
    to it ("2.1e25", "1.5B") and no quantity words around it ("around 3.3", "3.5 percent")."""
    if s > 0 and (doc[s - 1].lower_ in QUANTITY_BEFORE
                  or not doc[s - 1].whitespace_ and not doc[s - 1].is_alpha and not doc[s - 1].is_space):
        return False  # a line break before it is no glue
    if e < len(doc) and (doc[e].lower_ in QUANTITY_AFTER
                         or doc[e].lower_ == "per" and e + 1 < len(doc) and doc[e + 1].lower_ == "cent"):
        return False  # "3.5 percent", "1.5 per cent"
    return not (e < len(doc) and not doc[e - 1].whitespace_ and doc[e].text.rstrip(".").isalnum())  # "1.5B."


# words after which a number said alone is a clause's subject ("once three is stable", "Turbo is cheap, four is smart")
CLAUSE_LEADS = {"and", "but", "so", "that", "once", "because", "while", "until", "whereas", "if", "when"}
# words after which a word is a clause's subject in talk ("sure, mini wins", "yeah mini handles it")
SUBJECT_LEADS = {"sure", "yeah", "yes", "okay", "ok", "then", "now", "see", "though", "still", "also"}
# verbs after a subject that say it is one thing (not "four are", "four have": a count of several)
SINGULAR_LEADS = BE_FORMS - {"are", "'re", "were", "am", "'m"} | VERB_LEADS - {"have", "'ve", "do"}
# words before a number said alone that set it against something ("worse than four", "way below four")
SET_AGAINST = CONTRASTS | {"below", "above", "beat", "beats"}  # "does it beat four, though?"
COUNTING_THAN = frozenset({"more", "less", "fewer", "other", "rather"})  # "more than four": a count, no model
# words that end the phrase of a version set against ("better than three point five now, but")
SET_AGAINST_ENDS = frozenset({"now", "which", "and", "but", "though", "anyway"})
# comparatives that judge a model against another ("way better than three point five"; not "higher
# than 3.5", "hotter than 3.5": measures), and words of a choice before "over" ("worth it over 3.5?")
QUALITY_COMPARATIVES = frozenset({"better", "worse", "smarter", "dumber", "faster", "slower", "cheaper", "pricier",
                                  "nicer", "bigger", "smaller"})
CHOICE_WORDS = frozenset({"it", "prefer", "pick", "picked", "choose", "chose", "use", "recommend", "take", "worth"})


def whole_version_alone(doc, i: int, covered) -> bool:
    """Whether the one-digit number at ``doc[i]`` (said "four" or written "4") stands alone for a
    whole version, as hosts say "four" for GPT-4: the subject of a verb in the singular at the start
    of a clause ("Four is noticeably slow", "so five seemed dumber", "once three is stable"), set
    against something ("way below four.", "Not four?", "better than four," but not "more than
    four"), or joined to a name just said ("between ChatGPT and four."); not a count ("four people",
    "four are out", "Two things", "twenty four"), the pronoun "one", or a part of a bigger number."""
    n = len(doc)
    if doc[i].lower_ == "one":
        return False  # "that one", "the one": a pronoun
    if i > 0 and (doc[i - 1].like_num or not doc[i - 1].whitespace_ and not doc[i - 1].is_punct):
        return False  # "twenty four", "GPT-4"
    if i + 1 < n and (doc[i + 1].like_num or doc[i + 1].lower_ in QUANTITY_AFTER):
        return False  # "four five", "four percent"
    if any(doc[k].like_num and not covered[k] for k in range(max(0, i - 6), i)):
        return False  # "two kids and four is a lot": numbers counted in a row ("Grok 2 once three is": a name's)
    nxt = doc[i + 1] if i + 1 < n else None
    prev = doc[i - 1].lower_ if i > 0 else ""
    ends = nxt is None or nxt.is_punct and nxt.text not in ("-", "/", "'")
    if prev in SET_AGAINST or prev in ("and", "or") and i >= 2 and covered[i - 2]:
        if prev == "than" and any(doc[k].lower_ in COUNTING_THAN
                                  for k in range(max(0, i - 5), i - 1)):
            return False  # "more than four", "more GPUs than four": a count
        return ends
    if (nxt is not None and nxt.lower_ == "itself" and i + 2 < n and doc[i + 2].lower_ in BE_FORMS
            and (sentence_start(doc, i) or prev == "," or prev in CLAUSE_LEADS)):
        return True  # "And four itself was sixty seven": a model set against what was just said (not "Step
        # four itself was trivial")
    return clause_subject(doc, i, i + 1)


def clause_subject(doc, s: int, e: int) -> bool:
    """Whether ``doc[s:e]`` is the subject of a verb in the singular at the start of a clause ("Four
    is noticeably slow", "so five seemed dumber", "and oh six oh five was supposed to fix it"); a
    verb in -s is left out, as "Two things" reads as one."""
    prev = doc[s - 1].lower_ if s > 0 else ""
    if not (s == 0 or sentence_start(doc, s) or doc[s - 1].text == "," or prev in CLAUSE_LEADS):
        return False
    nxt = doc[e] if e < len(doc) else None
    if nxt is None or not nxt.is_lower:
        return False
    w = nxt.lower_
    return w in SINGULAR_LEADS or nxt.is_alpha and past_verb(w)


def past_verb(word: str) -> bool:
    """Whether a lower-case ``word`` is a verb in the past ("got", "seemed"): a verb no plural noun
    reads as, unlike one in -s ("things", "tags")."""
    return word in IRREGULAR_PAST or len(word) > 3 and word.endswith("ed")


def sentence_start(doc, i: int) -> bool:
    return i == 0 or doc[i - 1].text in (".", "!", "?", ":", "\n") or doc[i - 1].is_space


def not_this_name(doc, s: int, e: int, is_word: Callable[[str], bool] | None = None) -> str:
    """Why a one-word name at ``doc[s:e]`` is something else by the words around it: "person" ("my
    uncle Claude", "a guy named Claude", "her name is Claude", "Hi Gemma.", "a question from Claude
    in Lyon", and with ``is_word`` (whether a word is an English word) "Claude Bergeron": a surname
    after it), "place" ("from Dana in Aurora"), "sign" ("I'm a Gemini", "my son, who is a Gemini"),
    "compound" (the end of another proper name: "Raspberry Pi", "a Brahms Opus"), "other" (said to be
    a kind of thing no model is: "Grok, the chip company"), "hyphened" (a first name's end: "Jean-Claude");
    "" when nothing says so."""
    if e - s != 1:
        return ""
    if is_word is not None and e < len(doc) and _surname(doc[e], is_word) and not doc[s].text.endswith("."):
        # (a name that ends its sentence has no surname: "then M P T. Um, yes")
        return "person"
    kind = _defined_as_other(doc, e)
    if kind:  # "Grok, the chip company", "Janus is the two-faced Roman god"; "Gemma is a person, Teo"
        return "person" if kind in PERSON_KINDS else "other"
    if any(doc[t].lower_ in SYMBOL_WORDS for t in range(max(0, s - 6), min(len(doc), e + 6))):
        return "other"  # "the Greek letter. Phi, like one point six one": a letter, a symbol
    if s == 0:
        return ""
    prev = doc[s - 1]
    named = prev.lower_ == "named" and not (s >= 2 and doc[s - 2].lower_ == "code")  # (not "code named Orion")
    if (prev.lower_.rstrip(".") in PERSON_TITLES or named
            or prev.lower_ in SOCIAL_TITLES and not written_as_no_word(doc[s].text)
            or (s >= 2 and prev.lower_ in ("is", "'s") and doc[s - 2].lower_ == "name")):
        return "person"
    greeted = prev.lower_ in GREETINGS or (prev.text == "," and s >= 2 and doc[s - 2].lower_ in GREETINGS)
    if greeted and corrected_before(doc, s) < 0 and (e == len(doc) or doc[e].is_punct):  # ("Vail, sorry, Veo,":
        # the name said again, not spoken to)
        return "person"  # "Hi Gemma.", "thanks, Claude": a person spoken to
    if prev.lower_ == "from" and _from_place(doc, e):
        return "person"  # "a question from Gemma in Leeds", "from Claude, a listener, in Lyon"
    if (prev.lower_ in ("in", "at") and s >= 3 and doc[s - 3].lower_ == "from" and doc[s - 2].is_alpha
            and doc[s - 2].text[:1].isupper()):
        return "place"  # "from Dana in Aurora, Colorado": where a listener writes from
    if (s >= 3 and prev.lower_ in ("a", "an") and doc[s - 2].lower_ in BE_FORMS
            and doc[s - 3].lower_ in PRONOUNS | {"who"} and not (e < len(doc) and doc[e].lower_ in MODEL_CUES)):
        return "sign"
    if (prev.lower_ in ("a", "an") and doc[s].lower_ in ZODIAC and s >= 2
            and (doc[s - 2].lower_ in BE_FORMS | {"'s", "\u2019s", "not", "'m"}
                 or doc[s - 2].lower_ in ("as", "like") and not (e + 1 < len(doc) and doc[e + 1].lower_ in ("or", "and",
                                                                                                      "a", "an"))
                 or s >= 3 and doc[s - 2].lower_ in PRONOUNS and doc[s - 3].lower_ in BE_FORMS)  # "are you a"
            and (e == len(doc) or doc[e].is_punct and doc[e].text not in ("-", "/"))):
        return "sign"  # "my sister's a Gemini, so", "are you a Gemini?", "as a Gemini, I" (not "pick a Gemini,",
        # "a Gemini model")
    if (prev.is_alpha and prev.text[:1].isupper() and not prev.ent_id_ and not prev.is_stop
            and not sentence_start(doc, s - 1) and prev.text not in ("I",)
            and (is_word is None or is_word(doc[s].lower_) or len(doc[s].text) <= 3
                 or not (any(ch.isupper() or ch.isdigit() for ch in doc[s].text[1:])
                         or prev.text.isupper() and len(prev.text) >= 2))):
        return "compound"  # (a name written as no word is, or after an acronym, stays one: "the Chinese
        # MMLU", "the March ChatGPT", "a DPO Mixtral"; not "the Encyclopaedia Galactica")
    if prev.text.endswith("-") and prev.text[:-1].isalpha() and prev.text[:1].isupper() and not prev.ent_id_:
        return "hyphened"  # "Jean-Claude": the end of a hyphened first name
    return ""


def corrected_before(doc, s: int, covered=None) -> int:
    """Where the words the speaker corrects to the name at ``doc[s]`` start ("So Sarah, sorry, Sora",
    "Vail, no, Veo"): up to three words written as a name before ", sorry," or ", no,", the first
    with the name's first letter (not "Look, sorry, Claude", "Okay, sorry, Sora"); -1 where none are."""
    if s < 4 or doc[s - 1].text != "," or doc[s - 2].lower_ not in ("sorry", "no") or doc[s - 3].text != ",":
        return -1
    a = s - 3
    while (a > 0 and s - 3 - a < 3 and doc[a - 1].is_alpha and not doc[a - 1].is_stop
           and doc[a - 1].text[:1].isupper() and not (covered is not None and covered[a - 1])):
        a -= 1
    if a == s - 3 or doc[a].lower_ in FILLERS or doc[a].lower_[:1] != doc[s].lower_[:1]:
        return -1
    return a


def _defined_as_other(doc, e: int) -> str:
    """The kind of thing the words after a name at ``..e`` say it is, where it is no model ("" if
    they do not): an apposition or "is (literally) the/a ..." whose noun, within a few words, is a
    kind of thing models are not ("Grok, the chip company", "Gemini, the crypto exchange", "Janus is
    the two-faced Roman god", "from Claude, a human Claude, in Lyon")."""
    k = e
    if k < len(doc) and (doc[k].text == "," or doc[k].lower_ in BE_FORMS):
        k += 1
        if k < len(doc) and doc[k].lower_ in ("literally", "just", "actually", "also"):
            k += 1
        if k < len(doc) and doc[k].lower_ in ("the", "a", "an"):
            for t in range(k + 1, min(len(doc), k + 7)):
                if doc[t].is_punct and doc[t].text != "-":
                    break
                if doc[t].lower_ in OTHER_KINDS:
                    return doc[t].lower_
                if (doc[t].lower_ in PERSON_KINDS and t <= k + 2
                        and not (t + 1 < len(doc) and doc[t + 1].lower_ in ("'s", "\u2019s", "of", "-"))):
                    return doc[t].lower_  # "Gemma is a person", "Claude, the guy from accounting" (the head
                    # noun, not "a man's best friend")
    return ""


def _from_place(doc, e: int) -> bool:
    """Whether "in Leeds" (or "at ...") follows a name said after "from", directly or after a short
    apposition between commas ("from Claude, a longtime listener, in Lyon"): where a person writes from."""
    if e + 1 < len(doc) and doc[e].text == "," and doc[e + 1].lower_ in ("in", "at"):
        e += 1  # "from Max, in Rotterdam"
    elif e < len(doc) and doc[e].text == ",":  # the apposition: a few words up to the next comma
        k = next((k for k in range(e + 1, min(len(doc), e + 8)) if doc[k].is_punct), None)
        if k is None or doc[k].text != "," or k == e + 1:
            return False
        e = k + 1
    return (e + 1 < len(doc) and doc[e].lower_ in ("in", "at") and doc[e + 1].is_alpha
            and doc[e + 1].text[:1].isupper() and not doc[e + 1].ent_id_)


def _surname(tok, is_word: Callable[[str], bool]) -> bool:
    """Whether ``tok``, right after a name, is a family name ("Claude Bergeron", "Claude Monet"):
    a capitalized word written as a proper name (not "API"), inside a sentence and not in a Title
    Case heading ("Pi Chatbot Will Soon Run"), that is neither a catalog name, a model word nor an
    English word ("Claude Code", "Llama Stack")."""
    after = tok.doc[tok.i + 1] if tok.i + 1 < len(tok.doc) else None
    return (tok.is_alpha and tok.text[:1].isupper() and tok.text[1:].islower() and not tok.ent_id_
            and not tok.is_stop and tok.lower_ not in MODEL_CUES and not sentence_start(tok.doc, tok.i)
            and not is_word(tok.lower_)
            and not (after is not None and after.is_alpha and after.text[:1].isupper()))  # a Title Case heading


def word_before(doc, i: int) -> str:
    """The lower-case word before ``doc[i]``, past one size adjective ("the new 32B", "the old 32":
    "the"); "" at the start."""
    prev = doc[i - 1].lower_ if i > 0 else ""
    return doc[i - 2].lower_ if prev in SIZE_ADJECTIVES and i > 1 else prev


# words after a checkpoint's date that say it is one ("the 0528 checkpoint", "the 2507 version")
CHECKPOINT_WORDS = frozenset({"version", "checkpoint", "update", "refresh", "snapshot", "model", "release", "one",
                              "build", "weights", "drop"})
# words said near a name that is also a letter or a symbol, and makes it one ("the golden ratio. Phi.")
SYMBOL_WORDS = frozenset({"letter", "letters", "ratio", "symbol", "constant", "alphabet", "greek"})
# kinds of things a name may be said to be that a model is not ("Gemini, the crypto exchange")
# (not "star", "game", "brand" or "program": "Opus is the star of the release", "a game changer")
OTHER_KINDS = frozenset(
    "company companies exchange god goddess letter constellation bird city town river wind band singer composer poet "
    "painter planet bank restaurant car drink dog cat horse animal rocket chipmaker university school mission "
    "spacecraft capsule".split())
PERSON_KINDS = frozenset("person guy man woman girl boy cousin".split())  # "Gemma is a person", "Claude, the guy"
# words before a name that make it a person's ("a human Claude", "my friend Yi"); "human", "friend" and
# "kid" are said of models too ("Claude is the most human", "a model a kid could use")
PERSON_BEFORE = PERSON_KINDS | {"human", "friend", "kid", "colleague", "buddy"}
# what follows a person's name, not a model's, where that name was a person's earlier in the chapter
# ("Claude also says", "Tell Aya she's been expanded")
SAID_BY_PERSON = frozenset({"says", "said", "asks", "asked", "writes", "wrote", "she", "he", "she's", "he's"})
LICENSES = frozenset({"apache", "gpl", "agpl", "lgpl", "mpl", "cc-by", "openrail"})  # "Apache 2.0": a license's version
# the past tenses that do not end in -ed, of verbs said of models ("Haiku got smarter", "Opus won")
IRREGULAR_PAST = frozenset(
    "got went came made took gave won beat ran hit put kept left lost felt found thought knew grew drew fell held "
    "brought bought caught taught sold told wrote broke spoke chose rose shot stood understood became began".split())

# verbs whose object may be a model said by its variant word alone ("did you try mini on it?", "I use
# mini more than preview"); their -s and -ed forms count by their shape
OBJECT_VERBS = frozenset("try use run ask prompt test trust prefer pick".split())
USE_VERB_FORMS = OBJECT_VERBS | frozenset(
    "tried tries uses used ran runs asked asks prompted prompts tested tests trusted trusts preferred prefers "
    "picked picks".split())  # "I used whisper for", "We tried whisper on"


def adverb(word: str, words) -> bool:
    """Whether a lower-case ``word`` is an adverb in -ly made from a word of ``words`` ("literally",
    "honestly", "basically", "happily"), said before a verb; not a noun in -ly ("family", "supply")."""
    if len(word) < 5 or not word.endswith("ly"):
        return False
    return (word[:-2] in words or word.endswith("ally") and word[:-4] in words
            or word.endswith("ily") and word[:-3] + "y" in words)


def verb_form(word: str) -> bool:
    """Whether a lower-case ``word`` looks like a verb in -s or -ed ("costs", "beats", "shipped")."""
    return len(word) > 3 and (word.endswith("s") or word.endswith("ed"))


def said_of_previous(doc, s: int, e: int) -> bool:
    """Whether the size at ``doc[s:e]`` is an attribute of the model just named, not another
    mention: the complement of "it is", "that's", "which was" ... ("Small 3.1 is great, it's 24
    billion", "which is also 24 billion", "Scout is 109 billion"), or a parameter count ("Mistral
    Large 2, with 123 billion parameters", "two trillion parameters, still training", "400 billion total")."""
    k = s - 1 if s >= 1 and doc[s - 1].lower_ in ("also", "only", "just", "still", "about", "around") else s
    if k >= 2 and doc[k - 1].lower_ in BE_FORMS and (doc[k - 2].lower_ in REFERRING_PRONOUNS
                                                    or doc[k - 2].is_title and not doc[k - 2].is_sent_start):
        return True  # "it's 24 billion", "which is also 24 billion", "Scout is 109 billion total"
    if e < len(doc) and doc[e].lower_ in ("parameters", "params"):
        return True  # "Two trillion parameters, still training": how big it is ("parameter model" names one)
    if e < len(doc) and doc[e].lower_ in ("total", "active") and word_before(doc, s) not in DETERMINERS:
        return True  # "128 experts, about 400 billion total": a count, as parameters are (not "the 400B total")
    return (s >= 1 and doc[s - 1].lower_ in ("with", "has", "have", "had", "(") and e < len(doc)
            and doc[e].lower_ == "parameter")


BASE_WORDS = {"built", "based", "trained", "tuned", "finetuned", "distilled"}
# verbs whose object is a tool: a lab's name there is its model or app ("asked DeepSeek for a recipe")
TOOL_VERBS = {"use", "uses", "used", "using", "ask", "asks", "asked", "asking", "try", "tries", "tried", "trying",
              "prompt", "prompts", "prompted", "prompting"}
RUN_VERBS = {"run", "ran", "running"}  # "you run Mistral at home", "to run DeepSeek"; not "Arthur Mensch runs Mistral"
RUNNERS = {"i", "you", "we", "they", "to", "can", "could", "will", "'ll", "would", "just", "still", "locally"}
# nouns of what is made from a model's weights: a lab's name before one is its model ("the Mistral
# fine-tune zoo", "Mistral merges", "a Mistral based model", "the DeepSeek weights")
WEIGHTS_NOUNS = {"fine-tune", "fine-tunes", "finetune", "finetunes", "merge", "merges", "based", "weights",
                 "quant", "quants", "checkpoint", "checkpoints", "distill", "distills"}
PLURAL_WEIGHTS = {w for w in WEIGHTS_NOUNS if w.endswith("s")}  # "Mistral fine tunes take over"
# words after a lab's name and a verb in -s that make the lab its subject ("DeepSeek merges its teams",
# "Mistral fine tunes the base model", "if DeepSeek merges with")
OBJECT_LEADS = {"its", "the", "a", "an", "their", "his", "her", "our", "my", "with", "them", "it", "this", "that"}
# what a model runs on or fits in ("Mistral runs on my MacBook", "fits in 24 gigs"), not a city or a cloud
DEVICE_WORDS = {"laptop", "laptops", "macbook", "mac", "macs", "phone", "phones", "iphone", "gpu", "gpus", "card",
                "cards", "cpu", "cpus", "pi", "desktop", "machine", "box", "4090", "3090", "4080", "m1", "m2", "m3",
                "m4", "vram", "ram", "memory", "gigs", "device", "devices", "raspberry", "home", "consumer"}
MOVE_VERBS = {"route", "routes", "routed", "routing", "switch", "switches", "switched", "switching", "move", "moved",
              "moving", "migrate", "migrated", "migrating"}  # "routing the easy stuff to DeepSeek"


def used_as_tool(doc, s: int, e: int) -> str:
    """How the lab's name at ``doc[s:e]`` stands for what it makes, a model or its app: "weights"
    where what is made of its weights is said ("the Mistral fine-tune zoo", "Mistral fine tunes take
    over", "twenty fine tunes of Mistral", "OpenHermes 2.5, also on Mistral", "Mistral runs on my
    MacBook"); "tool" as the object of a verb of use ("we use DeepSeek for code", "she asked DeepSeek",
    "you run Mistral at home"), what others build on ("on top of Mistral"), where work is moved
    ("routing the easy stuff to DeepSeek"), or what something still is ("it's still Mistral"); "" where
    neither is, as in its possessive ("use DeepSeek's API")."""
    if e < len(doc) and doc[e].lower_ in ("'s", "’s"):
        return ""
    n = len(doc)
    nxt = word_at(doc, e).lower() if e < n else ""
    if nxt == "fine" and e + 1 < n and doc[e + 1].lower_ in ("tune", "tunes"):
        nxt, after = "fine-" + doc[e + 1].lower_, e + 2  # "Mistral fine tunes", as the ASR writes it
    else:
        after = e + len(word_at(doc, e).split("-")) if e < n else e  # ("fine-", "tunes": two tokens)
    follows = doc[after].lower_ if after < n else ""
    if nxt in PLURAL_WEIGHTS and follows not in OBJECT_LEADS and not (after < n and doc[after].ent_id_):
        return "weights"  # "Mistral fine tunes take over", "Mistral merges were"; not the lab doing it: "if
        # DeepSeek merges with", "Mistral fine tunes its models", "DeepSeek fine-tunes the base model"
    if nxt in ("runs", "fits") and e + 2 < n and doc[e + 1].lower_ in ("on", "in") and (
            doc[e + 2].lower_ in DEVICE_WORDS or doc[e + 2].like_num
            or doc[e + 2].lower_ in OWNERS | {"a", "the", "one", "any"} and e + 3 < n
            and (doc[e + 3].lower_ in DEVICE_WORDS or doc[e + 3].like_num)):
        return "weights"  # "Mistral runs on my MacBook", "DeepSeek fits in 24 gigs" (not "Mistral runs in
        # Paris", "Amazon runs on AWS", "Arthur Mensch runs Mistral")
    if s == 0:
        return ""
    prev = doc[s - 1].lower_
    if (prev == "on" and s >= 2 and doc[s - 2].lower_ in ("also", "both")
            and any(ent.label_ == "PT_MODEL" and ent.end <= s - 2 and s - ent.end <= 12 for ent in doc.ents)):
        return "weights"  # "OpenHermes 2.5 from Teknium, also on Mistral": the base of a model just named
        # (not "all eyes are on DeepSeek", "my money is on Mistral")
    if nxt in WEIGHTS_NOUNS and prev in DETERMINERS | {"a", "an", "some"}:
        return "weights"  # "the Mistral fine-tune zoo", "a Mistral based model"
    made = word_said(doc, s - 2).lower() if prev == "of" and s >= 2 else ""
    if made in WEIGHTS_NOUNS or made in ("tune", "tunes") and s >= 3 and doc[s - 3].lower_ == "fine":
        return "weights"  # "twenty fine tunes of Mistral", "merges of Mistral" (what is made of its weights)
    if (prev in TOOL_VERBS or prev in RUN_VERBS and s >= 2 and doc[s - 2].lower_ in RUNNERS | {"been", "'ve"}
            or prev == "of" and s >= 3 and doc[s - 2].lower_ == "top" and doc[s - 3].lower_ == "on"):
        return "tool"  # "you run Mistral at home", "I've been running Mistral", "on top of Mistral"
    if prev == "to":
        return "tool" if any(doc[k].lower_ in MOVE_VERBS for k in range(max(0, s - 7), s - 1)) else ""
    return "tool" if (prev == "still" and s >= 3 and doc[s - 2].lower_ in BE_FORMS
                      and doc[s - 3].lower_ in REFERRING_PRONOUNS) else ""


def compared_to_model(doc, s: int, e: int) -> bool:
    """Whether the lab's name at ``doc[s:e]`` may stand for its model by where it is said, once that
    model is talked about: judged against a model ("it's worse than Mistral now.", "Gemma 7B below
    Mistral on their tests"; not "than Mistral gave"). Labs are compared too ("spent less than
    DeepSeek", "a smaller company than Mistral", "all eyes are on DeepSeek"): only "better/worse than",
    "below", "above" count, and the caller asks that one of the lab's models be under discussion."""
    if s < 2 or e < len(doc) and doc[e].lower_ in ("'s", "’s"):
        return False
    prev, ends = doc[s - 1].lower_, e == len(doc) or doc[e].is_punct
    return (prev in ("below", "above") or prev == "than" and doc[s - 2].lower_ in ("better", "worse")) and (
        ends or e < len(doc) and doc[e].lower_ in ("now", "on", "at"))


def built_on(doc, s: int) -> bool:
    """Whether the name at ``doc[s]`` is what other models are built on, not the one talked about:
    "fine-tuned on Qwen 2.5", "based on Llama", "four on Qwen, two on Llama" (a count of models)."""
    if s < 2 or doc[s - 1].lower_ != "on":
        return False
    before = doc[s - 2]
    return before.lower_ in BASE_WORDS or before.norm_.isdigit()


# the nouns that say what a newly named thing is ("a new benchmark called X", "X, the toxicity
# benchmark", "a vision-language model, PaLI X"): a model or a benchmark
KIND_NOUNS = {"model": "model", "models": "model", "llm": "model", "fine-tune": "model", "finetune": "model",
              "merge": "model", "checkpoint": "model", "benchmark": "benchmark", "eval": "benchmark",
              "leaderboard": "benchmark"}
INTRODUCING = {"called", "named", "dubbed", "codenamed", "codename"}  # "a benchmark called X", "codename X"
# "a role model", "their business model": no AI model
NOT_AI_MODELS = {"role", "business", "flagship", "fashion", "pricing", "revenue", "data", "mental", "car"}
# what says a name is introduced where AI is talked about ("Cybertruck, a new model", "codenamed Overlord",
# "the FTSE, the benchmark for UK stocks" are not): a catalog name or one of these near it
AI_NEAR = 15
AI_WORDS = {"ai", "llm", "llms", "weights", "parameters", "params", "open-source", "open-weight", "fine-tuned",
            "trained", "training", "gpu", "gpus", "tokens", "inference", "reasoning", "agent", "agents", "dataset",
            "benchmarks", "evals", "leaderboard", "leaderboards", "checkpoint", "checkpoints", "chatbot", "prompt",
            "transformer", "multimodal", "lab", "labs", "scores", "scored", "sota", "model", "models", "benchmark",
            "eval"}  # (the frame's own noun is not counted: "the FTSE, the benchmark for UK stocks")
# what follows a noun that ends its phrase ("the toxicity benchmark, and", "a ... model from X")
PHRASE_AFTER = {"from", "by", "for", "that", "which", "with", "of", "on", "in", "and", "or", "out", "is", "was"}


def name_at(doc, i: int, covered) -> int:
    """The end of a name the catalog does not know that starts at token ``i``: a word written as a
    name (capitalized, in capitals or CamelCase) and what is written with it (more such words, a
    version, a benchmark's tail: "Prover bench", "PaLI X", "FreeWilly 1"), at most four tokens;
    ``i`` where none starts there."""
    n = len(doc)
    if i >= n or covered[i] or not doc[i].text[:1].isupper() or not doc[i].text[:1].isalpha() or doc[i].is_stop:
        return i
    k = i + 1
    while k < n and k - i < 4 and not covered[k] and (
            doc[k].text[:1].isupper() and doc[k].text[:1].isalpha() and not doc[k].is_stop
            or doc[k].like_num and len(doc[k].text) <= 4 or doc[k].text in BENCHMARK_TAILS
            or not doc[k - 1].whitespace_ and doc[k - 1].text.endswith("-")):
        k += 1
    return k


# verbs with which a lab puts out a model ("OpenAI put out Shap E", "DeepMind published FunSearch")
RELEASE_VERBS = {"released", "releases", "shipped", "ships", "launched", "launches", "dropped", "drops", "unveiled",
                 "unveils", "announced", "announces", "published", "publishes", "open-sourced", "debuted", "introduced"}
RELEASE_ADVERBS = {"also", "just", "finally", "quietly", "now", "then", "even", "already"}


def introduced_names(doc, low: list[str], covered, is_word: Callable[[str], bool],
                     labs: tuple[frozenset[int], frozenset[int]] = (frozenset(), frozenset())
                     ) -> list[tuple[int, int, str]]:
    """(start, end, kind) of names the catalog does not know that the talk introduces as a model or
    a benchmark where AI is talked about: "a new eval called Zorb Arena", "codename Olympus", "a new
    benchmark, Prover bench,", "ToxiGen, the toxicity benchmark", "Dia, a one point six B text to
    speech model", "FreeWilly 1, which is a fine-tune of", and a lab's ("OpenAI put out Shap E",
    "StripedHyena, from Together": ``labs`` are the starts and ends of the doc's lab names); not "Bob,
    the model train fan" (the noun heads no phrase there) nor a phrase with another name in it
    ("Meta, the lab behind the Llama models"). Named in apposition, the name is no English word
    alone ("the end of February, which is a ... model" is about something else), no license ("Apache
    2.0, a reasoning model"), not at a sentence start unless written as no word is ("Yeah, the lesson
    is pin your model", "Theo, the coder model": someone spoken to; "FreeWilly 1, which is" counts)
    and not a word alone ending the sentence ("Vibes are an eval, Marcus.")."""
    out: list[tuple[int, int, str]] = []  # (``low``: the tokens' lower-case texts, read once for the doc)
    n = len(doc)

    def kind_of(k: int) -> str:  # (a word with no hyphen after it is its own token: no Token read)
        if k >= n:
            return ""
        return KIND_NOUNS.get(word_at(doc, k).lower() if low[k].endswith("-") else low[k], "")

    def heads(k: int) -> bool:  # a kind noun that ends its phrase
        end = k + 1
        while end < n and not doc[end - 1].whitespace_ and doc[end - 1].text.endswith("-"):
            end += 1  # "fine-" "tune"
        return end == n or doc[end].is_punct or low[end] in PHRASE_AFTER

    def coined(s: int, e: int) -> bool:  # no English word, no license, alone
        return not (e - s == 1 and is_word(low[s])) and low[s] not in LICENSES

    def ai_talk(s: int, e: int) -> bool:  # a catalog name or a word of AI talk near the frame
        lo, hi = max(0, s - AI_NEAR), min(n, e + AI_NEAR)
        return any(covered[t] or low[t] in AI_WORDS for t in range(lo, hi) if not s <= t < e)

    def other_kind(k: int) -> bool:  # "a role model", "their business model": no AI model
        return k > 0 and low[k - 1] in NOT_AI_MODELS

    lab_starts, lab_ends = labs
    i = 0
    while i < n:
        kind, start = "", -1
        if i in lab_ends:  # "OpenAI put out Shap E,", "DeepMind also published FunSearch, which"
            k = i + 1 if low[i] in RELEASE_ADVERBS else i
            if k + 1 < n and low[k] == "put" and low[k + 1] == "out":
                k += 2
            else:
                k = k + 1 if k < n and low[k] in RELEASE_VERBS else -1
            end = name_at(doc, k, covered) if 0 < k < n else -1
            # written as no word is, or in several words ("Nvidia launched Blackwell", "Google launched
            # Gmail" and "Microsoft released Teams" are not introduced so)
            if (end > k and (end == n or doc[end].is_punct or low[end] in PHRASE_AFTER) and coined(k, end)
                    and (end - k > 1 or written_as_no_word(doc[k].text))):
                out.append((k, end, "model"))
                i = end
                continue
        if low[i] in INTRODUCING or low[i] == "name" and i > 0 and low[i - 1] == "code":
            kind = "model" if low[i] in ("codename", "codenamed", "name") else next(
                (kind_of(k) for k in range(max(0, i - 4), i) if kind_of(k) and not other_kind(k)), "")
            start = i + 1
        elif (kind_of(i) and i + 2 < n and doc[i + 1].text == "," and heads(i) and not other_kind(i)
              and any(low[k] in ("a", "an", "new") for k in range(max(0, i - 4), i))):
            kind, start = kind_of(i), i + 2  # "a new benchmark, Prover bench,"
        if kind and start < n:
            end = name_at(doc, start, covered)
            said_alone = end == start + 1 and doc[start].is_title and end < n and doc[end].text in (".", "?", "!")
            frame = min(start, max(0, i - 4))  # from the kind noun ("a new benchmark called X")
            if end > start and (end == n or doc[end].is_punct or low[end] in PHRASE_AFTER) and ai_talk(frame, end) and (
                    low[i] in INTRODUCING or low[i] == "name" or coined(start, end) and not said_alone):
                out.append((start, end, kind))
                i = end
                continue
        end = name_at(doc, i, covered)
        shaped = any(t.like_num or any(ch.isupper() for ch in t.text[1:]) for t in doc[i:end])  # "FreeWilly 1"
        after = end + 1 if end < n and doc[end].text == "," else end
        numbered = any(t.like_num for t in doc[i:end])
        if (end > i and after + 1 < n and low[after] == "from" and after + 1 in lab_starts
                and (numbered or end == i + 1 and written_as_no_word(doc[i].text))
                and not (low[end - 1] == "one" and i > 0 and low[i - 1] == "the")):
            # "StripedHyena, from Together", "Character one from Hedra" (written as no person's name is:
            # not "Liam Fedus from OpenAI"; not "the Elo one from LMSYS")
            out.append((i, end, "model"))
            i = end
            continue
        if (end > i and end + 2 < n and doc[end].text == "," and coined(i, end)
                and (shaped or not sentence_start(doc, i))):
            k = end + 1
            if low[k] == "which" and k + 1 < n and low[k + 1] in ("is", "was", "'s"):
                k += 2  # "FreeWilly 1, which is a fine-tune of"
            if k < n and low[k] in ("a", "an", "the"):
                for m in range(k + 1, min(n, k + 9)):
                    if doc[m].is_punct or covered[m] or doc[m].ent_id_:
                        break
                    if kind_of(m) and heads(m):
                        # what kind of model: "a big vision-language model", not "Kate, a model from Paris";
                        # "a fine-tune" says it
                        if (m > k + 1 or low[m] not in ("model", "models")) and not other_kind(m) and ai_talk(i, m + 1):
                            out.append((i, end, kind_of(m)))
                        break
        i = max(end, i + 1)
    return out


def written_as_no_word(text: str) -> bool:
    """Whether a one-word name is written as no English word or person's name is: capitals inside it
    after the first letter ("FunSearch", "StripedHyena"; not "McCarthy", "MacKenzie") or a digit."""
    inner = text[3:] if text[:2] == "Mc" else text[4:] if text[:3] == "Mac" else text[1:]
    return any(ch.isupper() or ch.isdigit() for ch in inner)


def word_at(doc, i: int) -> str:
    """The text of the word that starts at token ``i``, its hyphened parts with it ("fine-tune")."""
    k = i  # (the tokenizer keeps the hyphen with the part before it: "fine-", "tune")
    while k + 1 < len(doc) and doc[k].text.endswith("-") and not doc[k].whitespace_ and doc[k + 1].is_alpha:
        k += 1
    return doc[i:k + 1].text


def word_said(doc, i: int) -> str:
    """The text of the word that ends at token ``i``, tokens written together ("M4" is "M", "4")."""
    k = i
    while k > 0 and not doc[k - 1].whitespace_ and not doc[k - 1].is_punct and i - k < 3:
        k -= 1
    return doc[k:i + 1].text


def product_name(tok) -> bool:
    """Whether ``tok`` names a product of its own, whose version follows ("Python 3.12", "iOS 18",
    "Apache 2.0" even at the start of a sentence): a capitalized word that is no catalog name (not a
    letter: "we A/B 3.7 against R1"; "iOS", "iPhone" are)."""
    if tok.lower_ in LICENSES:
        return True
    return (tok.is_alpha and len(tok) > 1 and not tok.text.islower() and not sentence_start(tok.doc, tok.i)
            and not tok.ent_id_ and not tok.is_stop and tok.lower_ not in ("version", "v"))


@lru_cache(maxsize=4096)
def month_of(date: Optional[str], year_alone: int = 1) -> Optional[int]:
    """A date ("2024-09-12", "2024-09", "2024") as a count of months; a year alone is its month
    ``year_alone`` (January: a release against an episode's date errs on the side of keeping the
    model); None for no date."""
    m = re.match(r"(\d{4})(?:-(\d{1,2}))?", date or "")
    return int(m.group(1)) * 12 + int(m.group(2) or year_alone) if m else None


def months_apart(a: Optional[str], b: Optional[str]) -> int:
    """Months between two release dates (a year alone counts as its middle; no date as a far one)."""
    ma, mb = month_of(a, 6), month_of(b, 6)
    return abs((10**6 if ma is None else ma) - (10**6 if mb is None else mb))


def clean_surface(text: str) -> str:
    return LEAD.sub("", TRAIL.sub("", text)) or text.strip()
