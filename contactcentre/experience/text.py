"""Term extraction for insight: lower-case words, stop words out, snowball stems in, with the
most common surface form kept so people read words, not stems."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)

STOP_WORDS: dict[str, frozenset[str]] = {
    "sv": frozenset("""
        alla allt att av blev bli blir blivit de dem den denna deras dess dessa det detta dig din dina ditt du där
        då efter ej eller en er era ert ett från för ha hade han hans har henne hennes hon honom hur här i icke
        ingen inom inte jag ju kan kunde man med mellan men mig min mina mitt mot mycket ni nu när någon något
        några och om oss på samma sedan sig sin sina sitta själv skulle som så sådan sådana sådant till under upp
        ut utan vad var vara varför varit varje vars vart vem vi vid vilka vilkas vilken vilket vår våra vårt än
        är åt över hej tack hälsningar vänliga fråga frågor undrar undra angående gäller behöver vill skulle
        också bara finns får fick kommer går gör göra ska nog mer även redan sen ingen inga väl snälla
    """.split()),
    "en": frozenset("""
        the and for are but not you all any can had her was one our out has him his how its may new now old see
        two who did get got let say she too use that with have this will your from they know want been good much
        some time very when come here just like long make many more only over such take than them well were what
        would there their about which could other into hello thanks thank please question regarding
    """.split()),
    "fi": frozenset("""
        ja on ei se että oli ole olla olen ovat mutta kun tai jos niin kuin myös vain sen hän me te he minä sinä
        tämä tämän nämä joka jotka mitä mikä miten missä kanssa koska sitten vielä siitä siinä voi voisi
        hei kiitos terveisin kysymys
    """.split()),
}
_ALGORITHMS = {"sv": "swedish", "en": "english", "fi": "finnish"}


@lru_cache(maxsize=4)
def _stemmer(language: str):  # type: ignore[no-untyped-def]
    return snowballstemmer.stemmer(_ALGORITHMS.get(language, "swedish"))


def terms(text: str, language: str = "sv") -> list[tuple[str, str]]:
    """(stem, word) for each content word, in order."""
    stop = STOP_WORDS.get(language, STOP_WORDS["sv"])
    words = [w for w in _WORD.findall((text or "").lower()) if w not in stop]
    stems = _stemmer(language).stemWords(words)
    return list(zip(stems, words, strict=True))


class TermCounter:
    """Document frequency per stem (a word repeated in one text counts once)."""

    def __init__(self) -> None:
        self.documents: Counter[str] = Counter()
        self.surface: dict[str, Counter[str]] = defaultdict(Counter)

    def add(self, text: str, language: str = "sv") -> set[str]:
        found = terms(text, language)
        for stem, word in found:
            self.surface[stem][word] += 1
        stems = {stem for stem, _ in found}
        self.documents.update(stems)
        return stems

    def word(self, stem: str) -> str:
        return self.surface[stem].most_common(1)[0][0]

    def top(self, n: int, *, min_count: int = 2) -> Iterable[tuple[str, int]]:
        return [(s, c) for s, c in self.documents.most_common(n) if c >= min_count]
