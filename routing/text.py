"""Text handling for the routing engine: cleaning, language detection, folding, stemming.

Pure Python, no Django. Everything here is deterministic and cached where it is hot, because the
engine calls it for every enquiry and for every article at index time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer

LANGUAGES: tuple[str, ...] = ("sv", "en", "fi")

# Residents often type without å/ä/ö (foreign keyboards, phones), so every comparison happens
# on folded text; Finnish ä/ö fold the same way, which is harmless for matching.
_FOLD = str.maketrans(
    {
        "å": "a",
        "ä": "a",
        "ö": "o",
        "æ": "a",
        "ø": "o",
        "é": "e",
        "è": "e",
        "ê": "e",
        "ü": "u",
        "á": "a",
        "à": "a",
        "í": "i",
        "ó": "o",
        "ú": "u",
        "ñ": "n",
        "ç": "c",
        "\u00ad": "",
    }
)


def fold(text: str) -> str:
    """Lower-case and strip diacritics the way people do when å/ä/ö are missing."""
    return text.lower().translate(_FOLD)


_TOKEN_RE = re.compile(r"[a-zåäöæøéèêüáàíóúñç0-9]+(?:-[a-zåäöæøéèêüáàíóúñç0-9]+)*")


def tokens(text: str) -> list[str]:
    """Lower-case word tokens (unfolded, so that the stemmers see real å/ä/ö)."""
    return _TOKEN_RE.findall(text.lower())


# --- Language detection -------------------------------------------------------------------------

_STOPWORDS: dict[str, frozenset[str]] = {
    "sv": frozenset(
        fold(w)
        for w in (
            "och att det som en ett jag vi har inte för med på är till av om kan man hur vad min "
            "mitt vår våra ni er hej tack får ska måste eller när var vill den de så mvh hälsningar "
            "behöver finns någon något vårt vår mig oss sin sitt hon han hans hennes undrar ringer "
            "kommer gäller också efter från innan sedan utan där här varför vem vilken vilket "
            "skulle gick fick blev bor eftersom fast men nu igen redan"
        ).split()
    ),
    "en": frozenset(
        (
            "the and to of a is in i my we our can how what do does you it for on have this that "
            "are hi hello thanks thank where when be need with there from was will would should "
            "me us your any about since if not get much which who why please regards best just "
            "been has had am an at by or so"
        ).split()
    ),
    "fi": frozenset(
        fold(w)
        for w in (
            "ja on ei se että hei voi kun mutta minä minulla meidän olen ole miten mitä kenelle "
            "onko kiitos terveisin voinko jos tai myös vielä taas nyt hän sen ovat ollut voitteko "
            "saada meillä minun hänen mikä missä milloin kuinka paljon tarvitsen haluaisin "
            "haluan pitää pitääkö voiko voimme asuu asun ettei kanssa enää jo sitten siitä koska "
            "mutta tämä tällä tässä kaupungin kaupunki solnassa"
        ).split()
    ),
}
_FI_HINT_RE = re.compile(r"(?:aa|ää|ii|uu|yy|oo|öö|kk|tt|pp)[a-zäö]*\b|ssa\b|ssä\b|lla\b|llä\b|sta\b|stä\b")


def detect_language(text: str, hint: str | None = None) -> str:
    """Guess sv/en/fi from function words; a channel hint only breaks ties.

    Function words are far more reliable than character statistics on two-line chat messages,
    and the three candidate languages share almost none of them.
    """
    words = [fold(w) for w in tokens(text)]
    if not words:
        return hint if hint in LANGUAGES else "sv"
    scores = {lang: 0.0 for lang in LANGUAGES}
    for word in words:
        for lang in LANGUAGES:
            if word in _STOPWORDS[lang]:
                scores[lang] += 1.0
    # Finnish function words are rarer in short texts; its orthography is a useful tie-breaker.
    scores["fi"] += 0.25 * len(_FI_HINT_RE.findall(text.lower())) * (scores["sv"] < 2)
    if any(ch in text.lower() for ch in "åÅ"):
        scores["sv"] += 1.0
    if hint in LANGUAGES:
        scores[hint] += 0.5
    best = max(LANGUAGES, key=lambda lang: (scores[lang], lang == "sv"))
    if scores[best] <= 0:
        return hint if hint in LANGUAGES else "sv"
    return best


# --- Stemming ---------------------------------------------------------------------------------

_STEMMERS = {
    "sv": snowballstemmer.stemmer("swedish"),
    "en": snowballstemmer.stemmer("english"),
    "fi": snowballstemmer.stemmer("finnish"),
}


@lru_cache(maxsize=200_000)
def stem(word: str, language: str) -> str:
    """Stem with the language's Snowball stemmer, then fold, so "plogar" and "plogning" meet."""
    stemmer = _STEMMERS.get(language, _STEMMERS["sv"])
    return fold(stemmer.stemWord(word))


# --- Cleaning e-mails -------------------------------------------------------------------------

_SUBJECT_RE = re.compile(r"^\s*(?:ämne|amne|subject|aihe)\s*:\s*(.*)$", re.IGNORECASE)
_REPLY_PREFIX_RE = re.compile(r"^(?:(?:sv|re|vs|vb|fw|fwd|aw)\s*:\s*)+", re.IGNORECASE)
_QUOTE_START_RE = re.compile(
    r"^\s*(?:-{2,}\s*(?:ursprungligt meddelande|original message|alkuperäinen viesti|"
    r"vidarebefordrat meddelande|forwarded message)\s*-{2,}"
    r"|_{5,}"
    r"|(?:från|from|lähettäjä)\s*:\s.*"
    r"|(?:den|on|am|le)\s.{3,80}\s(?:skrev|wrote|kirjoitti|schrieb)\s*:?\s*)$",
    re.IGNORECASE,
)
_SIGNOFF_RE = re.compile(
    r"^\s*(?:mvh|med vänlig(?:a)? hälsning(?:ar)?|vänlig(?:a)? hälsning(?:ar)?|hälsningar|"
    r"hälsning|vh|bästa hälsningar|tack på förhand|tack|tack!|regards|best regards|kind regards|"
    r"best|thanks|thank you|cheers|sincerely|terveisin|ystävällisin terveisin|kiitos|"
    r"t\.\s?\w+|/\s?\w+|--)\s*[,.!]?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class CleanText:
    subject: str  # without "Ämne:" and reply prefixes
    body: str  # the sender's own words: no quoted reply, no signature
    signature: str  # kept apart: organisation numbers and company names live here
    is_reply: bool  # the subject carried SV:/Re:, or a quoted earlier message was removed

    @property
    def main(self) -> str:
        return f"{self.subject}\n{self.body}" if self.subject else self.body


def clean_message(text: str, subject: str = "") -> CleanText:
    """Split an enquiry into subject, the sender's own words and the signature.

    Quoted earlier replies are dropped because they carry the department's vocabulary (and case
    numbers of other matters), which would otherwise dominate the classification.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    is_reply = False
    if lines and (match := _SUBJECT_RE.match(lines[0])):
        subject = subject or match.group(1)
        lines = lines[1:]
    raw_subject = subject.strip()
    stripped_subject = _REPLY_PREFIX_RE.sub("", raw_subject)
    if stripped_subject != raw_subject:
        is_reply = True

    own: list[str] = []
    for line in lines:
        if _QUOTE_START_RE.match(line):
            is_reply = True
            break
        if line.lstrip().startswith(">"):
            is_reply = True
            continue
        own.append(line)

    # The signature starts at the last sign-off line in the final third of the message.
    signature_at = len(own)
    for index in range(len(own) - 1, -1, -1):
        if _SIGNOFF_RE.match(own[index]) and index >= len(own) * 0.4:
            signature_at = index
            break
    body = "\n".join(own[:signature_at]).strip()
    signature = "\n".join(own[signature_at:]).strip()
    if not body:
        body, signature = "\n".join(own).strip(), ""
    return CleanText(subject=stripped_subject, body=body, signature=signature, is_reply=is_reply)
