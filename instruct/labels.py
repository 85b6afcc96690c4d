"""Emotion vocabularies of micro-expression datasets, the 3- and 7-class label sets, and reading
a category out of an LLM's free text.

- 7-class: the seven basic emotions (SAMM and DFME annotate these).
- 3-class: Positive, Negative, Surprise, as MEGC composes CASME II, SAMM and SMIC: happiness is
  positive; anger, contempt, disgust, fear, sadness and repression are negative; "others" (and
  CASME's "tense") belong to neither and are left out, as MEGC leaves them out.
"""
from __future__ import annotations

import re

EMOTIONS_7 = ("happiness", "surprise", "disgust", "fear", "sadness", "anger", "contempt")
CLASSES_3 = ("negative", "positive", "surprise")
OTHERS = "others"
LABEL_SETS: dict[str, tuple[str, ...]] = {"3": CLASSES_3, "7": EMOTIONS_7}
DISPLAY = {name: name.capitalize() for name in (*EMOTIONS_7, *CLASSES_3)}

# Every spelling datasets and LLM answers use -> the canonical emotion (or "others").
ALIASES: dict[str, str] = {
    "happiness": "happiness", "happy": "happiness", "joy": "happiness", "amusement": "happiness",
    "surprise": "surprise", "surprised": "surprise",
    "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "sadness": "sadness", "sad": "sadness",
    "anger": "anger", "angry": "anger",
    "contempt": "contempt",
    "repression": "repression", "repressed": "repression",
    "others": OTHERS, "other": OTHERS, "tense": OTHERS,
    "positive": "positive", "negative": "negative",
}
TO_3_CLASS = {"happiness": "positive", "surprise": "surprise", "disgust": "negative", "fear": "negative",
              "sadness": "negative", "anger": "negative", "contempt": "negative", "repression": "negative",
              "positive": "positive", "negative": "negative"}


def normalise_emotion(name: str) -> str:
    """A dataset's emotion name ("Happy", " happiness ", "Others") -> canonical; ValueError for
    an unknown name, naming it and the known ones."""
    key = re.sub(r"[^a-z]", "", str(name).lower())
    if key not in ALIASES:
        raise ValueError(f"unknown emotion {name!r}: use one of {sorted(set(ALIASES))}")
    return ALIASES[key]


def check_label_set(label_set: str) -> tuple[str, ...]:
    if label_set not in LABEL_SETS:
        raise ValueError(f"unknown label set {label_set!r}: choose 3 (Positive/Negative/Surprise) or 7 (basic emotions)")
    return LABEL_SETS[label_set]


def category_of(emotion: str, label_set: str) -> str | None:
    """A canonical emotion -> its class in the label set, or None when the set leaves it out
    (others in both; repression in the 7-class set; a 3-class name asked for 7 classes)."""
    check_label_set(label_set)
    if label_set == "3":
        return TO_3_CLASS.get(emotion)
    return emotion if emotion in EMOTIONS_7 else None


SUMMARY_MARKERS = re.compile(r"(?im)^[#*\s>]*(?:3[.):]|step\s*3\b|summary\b).*$")


def parse_category(text: str, label_set: str) -> str | None:
    """The category an answer states: the first class word (or alias) in its summary section
    (from the last line that starts with "3.", "Step 3" or "Summary"), else the last one in the
    whole text. Case, punctuation and markdown do not matter; None when it names none."""
    check_label_set(label_set)
    markers = list(SUMMARY_MARKERS.finditer(text))
    sections = [text[markers[-1].start():]] if markers else []
    for section, pick in [*((s, "first") for s in sections), (text, "last")]:
        found = [category_of(ALIASES[w], label_set) for w in re.findall(r"[a-z]+", section.lower()) if w in ALIASES]
        found = [c for c in found if c is not None]
        if found:
            return found[0] if pick == "first" else found[-1]
    return None
