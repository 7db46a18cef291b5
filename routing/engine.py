"""The routing engine: decide whether an enquiry is answered from the knowledge base, handled by
the contact centre, or escalated to a department.

Pure Python with no Django import, so it can be unit-tested and benchmarked alone. Build a
:class:`RoutingModel` once from departments, articles, learned examples and explicit rules (the
expensive part), then call :func:`decide` per enquiry. A model is immutable: retraining builds a
new one and swaps the reference, so decisions in flight never see a half-built index.

How a decision is made, in order:

1. Explicit admin rules (sender domain or phrase) win over everything for the department.
2. A case number ("dnr BYGG 2024-123") with a known prefix sends the enquiry straight to that
   department; any case reference or ongoing-case phrasing blocks an automatic answer.
3. Otherwise departments are scored from four kinds of evidence: the hand-written concept
   lexicon (:mod:`routing.lexicon`), the best matching articles, a profile of each department
   (description, articles, seed corpus) and the nearest learned examples.
4. An article is offered only when it matches well, belongs to the chosen department, and the
   enquiry is a general question (not a complaint, not about a specific case); the threshold
   depends on the channel, because a wrong automatic e-mail costs more than a chat suggestion.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from rapidfuzz import fuzz, process

from routing.lexicon import CASE_PREFIXES, Concept, ConceptMatcher, parse_concepts
from routing.text import CleanText, clean_message, detect_language, fold, stem, tokens

Action = Literal["answer", "escalate", "agent"]

FALLBACK_DEPARTMENT = "kundtjanst"

# --- Inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Department:
    code: str
    name: str = ""
    description: str = ""
    # Confidence needed to send an automatic e-mail answer for this department; None = default.
    email_auto_answer_threshold: float | None = None


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    title: str
    body: str
    language: str
    department: str
    tags: tuple[str, ...] = ()
    example_questions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled enquiry from history or an agent's correction."""

    text: str
    department: str
    article: str | None = None
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Rule:
    """An explicit admin rule. Matches on the sender's e-mail domain or a phrase in the text."""

    department: str | None = None
    priority: str | None = None
    sender_domain: str = ""
    phrase: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Enquiry:
    text: str
    channel: str = "web"  # web | chat | email | phone | open311
    language: str | None = None  # a hint from the channel
    subject: str = ""
    sender_email: str = ""
    sender_phone: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    """Confidence thresholds per channel. Phone never answers automatically."""

    chat_threshold: float = 0.72
    default_threshold: float = 0.80
    email_threshold: float = 0.82
    # A complaint is never auto-answered by e-mail unless a department explicitly opts in.
    complaint_auto_answer: bool = False
    suggestion_count: int = 3
    # Below this department score the enquiry stays with the contact centre as too vague.
    vague_score: float = 3.0


# --- Output -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Suggestion:
    slug: str
    title: str
    department: str
    language: str
    score: float


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    department: str
    article: str | None
    confidence: float
    language: str
    complaint: bool
    business: bool
    explanation: str
    priority: str | None = None
    suggestions: tuple[Suggestion, ...] = ()
    case_reference: str | None = None
    article_confidence: float = 0.0
    department_scores: tuple[tuple[str, float], ...] = ()
    decided_at: datetime | None = None
    features: Mapping[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "department": self.department,
            "article": self.article,
            "confidence": round(self.confidence, 3),
            "language": self.language,
            "complaint": self.complaint,
            "business": self.business,
            "explanation": self.explanation,
            "priority": self.priority,
            "case_reference": self.case_reference,
            "suggestions": [s.slug for s in self.suggestions],
        }


# --- Features ---------------------------------------------------------------------------------

_STOP = frozenset(
    fold(w)
    for w in (
        # Swedish
        "och att det som en ett jag vi har inte för med på är till av om kan man hur vad min mitt "
        "mina vår våra ni er era hej tack får ska måste eller när var vill den de så mvh hälsningar "
        "behöver finns någon något vårt mig oss sin sitt hon han hans hennes dem deras denna detta "
        "dessa också efter från innan sedan utan där här vem vilken vilket vilka skulle blir blev "
        "bara redan nu igen då än ju väl lite mycket sig själv eftersom fast men hade har hur "
        "undrar ringer kund kunden vänliga vänlig hälsning ämne solna stad staden kommunen "
        # English
        "the and to of a is in i my we our can how what do does you it for on have this that are "
        "hi hello thanks thank where when be need with there from was will would should me us "
        "your any about since if not get much which who why please regards best just been has "
        "had am an at by or so"
        # Finnish
        " ja on ei se että hei voi kun mutta minä minulla meidän olen ole miten mitä kenelle onko "
        "kiitos terveisin voinko jos tai myös vielä taas nyt hän sen ovat ollut voitteko"
    ).split()
)
_CONCEPT_TERM = "§"


def _stems(text: str, language: str) -> list[str]:
    out: list[str] = []
    for token in tokens(text):
        folded = fold(token)
        if folded in _STOP or len(folded) < 2 or folded.isdigit():
            continue
        out.append(stem(token, language))
    return out


_ORGNR_RE = re.compile(r"(?<![\d-])(\d{6})[-\s]?(\d{4})(?![\d-])")
_COMPANY_RE = re.compile(
    r"\b(?:AB|HB|KB|Oy|Ab|Ltd|Inc|GmbH|BRF|Brf|ek\.\s?för\.?|ideell förening)\b(?![-\d])"
)
_BUSINESS_CUES = re.compile(
    "|".join(
        (
            r"\borg\.?\s?nr",
            r"\borganisationsnummer",
            r"\bbostadsrattsforening",
            r"\bforeningen(?:s)?\b",
            r"\b(?:idrotts|intresse|samfallighets|hyresgast|ideell)\w*forening",
            r"\bvi (?:ar|driver) (?:en|ett) \w*(?:forening|foretag|bolag|restaurang|cafe|kiosk|butik|forskola|salong)",
            r"\bvi driver\b",
            r"\bvar (?:restaurang|butik|kiosk|salong|verksamhet|forskola|firma|krog|bar)\b",
            r"\bvart (?:foretag|bolag|cafe|kafe|gym)\b",
            r"\bvara (?:servicebilar|kunder|gaster|anstallda)\b",
            r"\b(?:foretagare|restaurangagare|butiksagare|kioskagare|fastighetsagare|entreprenor|totalentreprenor|ordforande|kassor)\b",
            r"\bkund driver\b",
            r"\b(?:har|ska) (?:kopt|oppna|starta|ta over) (?:en|ett) \w*(?:pizzeria|restaurang|cafe|kafe|kiosk|butik|salong|studio|bageri|gym|food truck)",
            r"\b(?:eget|mitt|vart) bolag\b|\bbolaget\b",
            r"\bvi har (?:fatt )?(?:serveringstillstand|tillstand)\b",
            r"\b(?:our|my) (?:company|restaurant|shop|business|firm|bar|cafe)\b",
            r"\b(?:registered a company|co-owner|opening a (?:small )?\w+ (?:cafe|restaurant|shop|bakery))",
            r"\bi'?m opening\b",
            r"\b(?:yritys|yrityksemme|taloyhtio|yhdistys)\b",
            r"\bcateringforetag|\w+foretag med\b|\bvi ar ett \w*foretag",
            r"\bfristaende forskola",
        )
    )
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def organisation_number(text: str) -> str | None:
    """A valid Swedish organisationsnummer in the text, if any.

    Legal persons have a third digit of 2 or more (which tells them from personal identity
    numbers, themselves Luhn-valid), and the tenth digit is a Luhn check digit.
    """
    for match in _ORGNR_RE.finditer(text):
        digits = match.group(1) + match.group(2)
        if int(digits[2]) >= 2 and _luhn_ok(digits):
            return f"{match.group(1)}-{match.group(2)}"
    return None


def detect_business(clean: CleanText, folded_all: str, original: str) -> tuple[bool, str]:
    if orgnr := organisation_number(original):
        return True, f"organisationsnummer {orgnr}"
    if m := _COMPANY_RE.search(clean.body + "\n" + clean.signature):
        return True, f"företagsnamn ({m.group(0)})"
    if m := _BUSINESS_CUES.search(folded_all):
        return True, f"skriver för en verksamhet ({m.group(0).strip()})"
    return False, ""


_COMPLAINT_CUES: tuple[tuple[str, float], ...] = (
    (r"\bklagomal pa (?:hur|er|era|ert|handlagg|bemotande|personal|hemtjansten|kundtjanst|bygglovs|forskolan|skolan|snorojning|servicen)", 3.0),
    (r"\bmissnoj", 3.0),
    (r"\b(?:framfora|lamna) (?:allvarlig )?(?:kritik|klagomal)", 3.0),
    (r"\bkritik\b", 1.5),
    (r"\b(?:otrevlig|oforskamd|nedlatande|arrogant|ohovlig)", 2.5),
    (r"\bdaligt bemott|\bbemottes? (?:med|som)|\bbemotandet", 2.5),
    (r"\binte service\b|\bdalig service|\bkass service", 3.0),
    (r"\boprofessionell", 3.0),
    (r"\b(?:oacceptabel|inte acceptabel|skandal|horribel|bedrovlig|uselt?\b|katastrof)", 2.5),
    (r"\bingen svarar\b|\binte (?:har )?svarat\b|\baldrig svarar", 2.0),
    (r"\binte (?:har )?aterkommit", 1.5),
    (r"\b(?:tredje|fjarde|femte) gangen\b|\bgang pa gang\b|\bigen!", 2.0),
    (r"\bvad haller ni pa med|\bni borde skammas|\bhelt sjukt|\bhur kan ni\b", 3.0),
    (r"\bupprord|\bargt?\b|\bbesviken|\bfrustrerad|\bskrek\b", 1.5),
    (r"\b(?:prata|tala|mote) med (?:en |din |er |ansvarig )?chef", 2.0),
    (r"\btar for lang tid|\bhar (?:nu )?vantat i \d+ (?:manad|vecko)", 2.0),
    (r"\bsom utlovat|\blovade\b|\bgarantin? (?:har )?inte", 1.5),
    (r"\binte (?:har )?plogats|\bingen snorojning", 2.5),
    (r"\bsuttit i (?:telefon)?ko|\bringt \w+ ganger|\bsamtalet brots", 2.5),
    (r"\bomojlig\b|\bloggades ut", 1.5),
    (r"\?!|!!|\?\?", 1.0),
    (r"\bkorde (?:pa|over)|\bbackat over|\bhar backat", 1.5),
    (r"\b(?:complain(?:t)? about (?:your|the city|the council|how)|unacceptable|rude|poor service|terrible service|disappointed)", 3.0),
    (r"\b(?:tyytymaton|epakohtelias|huonoa palvelua)", 3.0),
)
_COMPLAINT_RES = tuple((re.compile(p), w) for p, w in _COMPLAINT_CUES)
# A "klagomål" about someone else (a neighbour, a bar, a building site) is a supervision matter.
_THIRD_PARTY_RE = re.compile(
    r"\b(?:klag\w*|anmal\w*|valitu\w*) (?:pa|om|mot|over)? ?(?:min |var |en |ett |den )?"
    r"(?:grann|restaurang|baren?\b|krog|byggarbetsplats|entreprenor|hund|hyresvard|fastighetsagare|naapuri)"
    r"|\b(?:grann\w*|naapuri\w*) (?:spelar|har|bygger|stor|skaller)"
)


def complaint_score(folded: str) -> tuple[float, list[str]]:
    score = 0.0
    cues: list[str] = []
    for regex, weight in _COMPLAINT_RES:
        if m := regex.search(folded):
            score += weight
            cues.append(m.group(0).strip())
    if _THIRD_PARTY_RE.search(folded):
        score -= 2.5
    return score, cues


# Ongoing-case phrasing: these need a caseworker even when an article covers the topic.
_CASE_CUES: tuple[tuple[str, float], ...] = (
    (r"\b(?:min|var|mitt|vart|hans|hennes) (?:ansokan|arende|anmalan|bestridande|overklagande|beslut)\b", 1.5),
    (r"\bansokte (?:om|for)\b.{0,40}\b(?:sedan|i (?:januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december))", 2.0),
    (r"\bhar (?:fortfarande )?inte fatt (?:nagot |nagon |ett )?(?:svar|beslut|besked|utbetalning|kallelse|plats)", 2.0),
    (r"\b(?:inte hort nagot|inget svar|ingen har (?:kommit|hort av sig)|ingen har varit)", 2.0),
    (r"\bkan ni (?:kolla|kontrollera|andra|byta|laga|skicka|ta bort|tomma|komma|fora over|flytta|bekrafta|ge ett datum|hjalpa mig med mitt)", 2.0),
    (r"\bgar det att andra\b|\bandra datum|\bandra (?:startdatum|datumet)", 1.5),
    (r"\bvill ha (?:tillbaka|ersattning|en forklaring|ett mote|en ny faktura)|\bvill bli uppringd", 2.0),
    (r"\b(?:tillbaka pengarna|pengarna tillbaka|aterbetalning|refund)", 2.0),
    (r"\b(?:avslag|overklaga|invanda|foreläggande|forelaggande|beslut om byggsanktion|anstand till)", 1.5),
    (r"\bhar inte (?:tomts|hamtats|kommit|plogats)|\btomdes inte|\binte tomts|\binte tomt|\bjai (?:taas )?tyhjentamatta", 2.0),
    (r"\binte tomdes|\binte hamtades|\binte har hamtats", 2.0),
    (r"\bvill (?:att (?:ni|kommunen|nagon|de)|gora en (?:anmalan|orosanmalan)|gora ett klagomal|anmala (?:det|detta|honom|henne|dem)|byta till|ha (?:tatare|glesare|ett extra|en extra|ett nytt|en ny))", 2.0),
    (r"\bkan (?:nagon|ni) (?:kolla|titta|komma|ta bort|andra)|\bkan (?:jag|vi) fa (?:en sammanstallning|platsen|ett intyg|tillbaka)", 2.0),
    (r"\b(?:i dag|idag|i morse|i natt|igar|i gar|i torsdags|i onsdags|i tisdags|i mandags|i fredags)\b", 0.75),
    (r"\bvarfor\b|\bwhy (?:did|was|has|is)\b|\bmiksi\b", 1.0),
    (r"\bvill ha\b|\bvi vill (?:att|ha)\b", 1.0),
    (r"\b(?:har|vi har|jag har) redan\b|\bvi har (?:fatt )?(?:serveringstillstand|tillstand|bygglov)\b", 1.0),
    (r"\bvilken plats (?:har|ar) (?:vi|jag|hon|han|barnet)|\bplats i kon nu\b", 2.0),
    (r"\boverfull|\blacker\b|\bligger (?:skrap|kartonger|sopor)", 1.5),
    (r"\bvem betalar (?:for )?(?:reparation|skada)|\bersattning for skador", 1.5),
    (r"\b(?:gick|har gatt|gatt) sonder|\btrasig|\bforsvann|\bforsvunnet|\bslackta?\b|\blutar kraftigt", 1.5),
    (r"\bvar (?:star|ligger) (?:mitt|min|vart|var) (?:arende|ansokan)|\bhur gar det med|\bstatus\b|\bwhere it stands", 2.0),
    (r"\bnar (?:kan vi forvanta|far vi|kommer (?:beslut|besked))|\bmilloin saamme|\bmilloin saan", 1.5),
    (r"\bbestred\b|\bbetalningsuppmaning|\btillaggsavgift|\bforhojd avgift|\bskickat ett krav", 1.5),
    (r"\bintyg (?:om|pa)\b|\bskicka (?:ett )?intyg", 1.5),
    (r"\b(?:fel belopp|fel antal|dubbla fakturor|tva ganger for)", 1.5),
    (r"\b[a-z]+(?:vagen|gatan|backen|stigen|grand|torg|leden|allen|plan|gardet) \d+\b", 1.0),
    (r"\b(?:ordernummer|fakturanr|fakturanummer|kundnummer|reg\.?\s?nr|hakemusnumero|referensnummer|rapport)\b", 1.5),
    (r"\bvill (?:ansoka om|ha) (?:en )?(?:reserverad|ny|nytt|extra)\b", 2.0),
)
_CASE_RES = tuple((re.compile(p), w) for p, w in _CASE_CUES)

# General how-to phrasing: the kind of question a knowledge-base article is written for.
_GENERAL_RE = re.compile(
    r"\b(?:kan|far|behover|maste|ska) man\b|\bhur (?:gor|ansoker|soker|anmaler|bokar|lamnar|bestrider|far) (?:man|jag|vi)\b"
    r"|\bvad kostar\b|\bhur (?:lang|lange|mycket|stor)\b|\bnar (?:kan|far|ska|maste) man\b|\bundrar (?:om|hur|vad|vilka|var)\b"
    r"|\b(?:behover|maste) (?:jag|vi)\b|\bfinns det\b|\bvar (?:kan|lamnar) (?:jag|man|vi)\b|\bvem ska man\b"
    r"|\b(?:can i|do i need|do we need|how do i|how do we|how much|how long|where can i|where do i|is it free|what do i need)\b"
    r"|\b(?:voiko|voinko|miten|paljonko|tarvitseeko|onko solnassa)\b"
)

_CASE_NUMBER_RE = re.compile(
    r"(?:\b(?:dnr|diarienr|diarienummer|ärende|arende|ärendenummer|ref|referens|case|reference)"
    r"\.?:?\s*)?\b([A-ZÅÄÖ]{1,5})[\s-](\d{4})-(\d{2,7})\b"
    r"|\b(?:dnr|diarienr|diarienummer|ärende|arende|ärendenr|ärendenummer|case|reference)\.?:?\s*(\d{4})-(\d{1,7})\b",
    re.IGNORECASE,
)


def case_reference(text: str) -> tuple[str | None, str | None]:
    """(reference as written, department code from its prefix) for the first case number."""
    for match in _CASE_NUMBER_RE.finditer(text):
        if match.group(1):
            prefix = match.group(1)
            if not prefix.isupper():
                continue
            department = CASE_PREFIXES.get(fold(prefix))
            return match.group(0).strip(), department
        return match.group(0).strip(), None
    return None, None


def case_specific_score(folded: str) -> tuple[float, list[str]]:
    score = 0.0
    cues: list[str] = []
    for regex, weight in _CASE_RES:
        if m := regex.search(folded):
            score += weight
            cues.append(m.group(0).strip())
    return score, cues


# --- The model --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Doc:
    slug: str
    title: str
    department: str
    language: str
    length: float
    core_concepts: frozenset[str]


def _weighted_terms(parts: Iterable[tuple[str, float]], language: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for text, weight in parts:
        for term in _stems(text, language):
            counts[term] += weight
    return counts


class RoutingModel:
    """An immutable index over departments, articles, examples and rules. Build once, share."""

    K1 = 1.2
    B = 0.6
    CONCEPT_BOOST = 1.5

    def __init__(
        self,
        *,
        departments: Sequence[Department],
        articles: Sequence[Article],
        examples: Sequence[Example] = (),
        rules: Sequence[Rule] = (),
        concepts: tuple[Concept, ...] | None = None,
        policy: Policy | None = None,
        version: str = "",
    ) -> None:
        self.version = version
        self.policy = policy or Policy()
        self.departments: dict[str, Department] = {d.code: d for d in departments}
        if FALLBACK_DEPARTMENT not in self.departments:
            self.departments[FALLBACK_DEPARTMENT] = Department(code=FALLBACK_DEPARTMENT)
        self.rules = tuple(rules)
        self.concepts = concepts if concepts is not None else parse_concepts()
        self.concept_by_key = {c.key: c for c in self.concepts}
        self.matcher = ConceptMatcher(self.concepts)
        self.articles: dict[str, Article] = {}
        self._docs: list[_Doc] = []
        self._doc_terms: list[frozenset[str]] = []
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._build_articles(articles)
        self._build_profiles(examples)
        self._build_examples(examples)
        self._vocabulary = self._build_vocabulary()

    # ---- index construction ----

    def _concept_terms(self, folded: str, weight: float) -> Counter[str]:
        return Counter(
            {_CONCEPT_TERM + key: weight * (1 + 0.25 * (n - 1)) for key, n in self.matcher.find(folded).items()}
        )

    def _build_articles(self, articles: Sequence[Article]) -> None:
        doc_terms: list[Counter[str]] = []
        for article in articles:
            if article.department not in self.departments:
                continue
            self.articles[article.slug] = article
            head = "\n".join((article.title, " ".join(article.tags), *article.example_questions))
            terms = _weighted_terms(
                (
                    (article.title, 3.0),
                    (" ".join(article.tags), 2.0),
                    ("\n".join(article.example_questions), 2.0),
                    (article.body, 1.0),
                ),
                article.language,
            )
            core = self.matcher.find(fold(head))
            terms.update(self._concept_terms(fold(head), 4.0))
            terms.update(self._concept_terms(fold(article.body), 1.0))
            self._docs.append(
                _Doc(
                    slug=article.slug,
                    title=article.title,
                    department=article.department,
                    language=article.language,
                    length=sum(terms.values()),
                    core_concepts=frozenset(core),
                )
            )
            doc_terms.append(terms)
            self._doc_terms.append(frozenset(terms))
        n_docs = max(len(self._docs), 1)
        self._avg_len = sum(d.length for d in self._docs) / n_docs if self._docs else 1.0
        df: Counter[str] = Counter()
        for terms in doc_terms:
            df.update(terms.keys())
        self._idf = {t: math.log(1 + (n_docs - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        self._max_idf = max(self._idf.values(), default=1.0)
        for index, terms in enumerate(doc_terms):
            norm = self.K1 * (1 - self.B + self.B * self._docs[index].length / self._avg_len)
            for term, tf in terms.items():
                weight = self._idf[term] * tf * (self.K1 + 1) / (tf + norm)
                self._postings[term].append((index, weight))

    def _build_profiles(self, examples: Sequence[Example]) -> None:
        """A bag of stems per department: its description plus its articles' titles and tags.

        Stems are language-specific, so the profile gets the description stemmed as Swedish
        and article heads in their own language; concepts carry the cross-language signal.
        """
        profile: dict[str, Counter[str]] = {code: Counter() for code in self.departments}
        for code, dept in self.departments.items():
            profile[code].update(_weighted_terms(((dept.name, 2.0), (dept.description, 1.0)), "sv"))
        for article in self.articles.values():
            profile[article.department].update(
                _weighted_terms(
                    ((article.title, 1.0), (" ".join(article.tags), 1.0), ("\n".join(article.example_questions), 0.5)),
                    article.language,
                )
            )
        df: Counter[str] = Counter()
        for counts in profile.values():
            df.update(counts.keys())
        n = len(profile)
        self._profile_idf = {t: math.log((n + 1) / (c + 0.5)) for t, c in df.items()}
        self._profiles: dict[str, dict[str, float]] = {}
        for code, counts in profile.items():
            vector = {t: (1 + math.log(c)) * self._profile_idf[t] for t, c in counts.items() if c > 0}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            self._profiles[code] = {t: v / norm for t, v in vector.items()}

    def _build_examples(self, examples: Sequence[Example]) -> None:
        self._examples: list[tuple[dict[str, float], Example]] = []
        self._example_postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        df: Counter[str] = Counter()
        bags: list[Counter[str]] = []
        for example in examples:
            if example.department not in self.departments:
                continue
            clean = clean_message(example.text)
            lang = detect_language(clean.main)
            bag = Counter(_stems(clean.main, lang))
            bag.update(self._concept_terms(fold(clean.main), 2.0))
            bags.append(bag)
            df.update(bag.keys())
            self._examples.append(({}, example))
        n = max(len(bags), 1)
        self._example_idf = {t: math.log((n + 1) / (c + 0.5)) + 1 for t, c in df.items()}
        for index, bag in enumerate(bags):
            vector = {t: (1 + math.log(c)) * self._example_idf[t] for t, c in bag.items() if c > 0}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for term, value in vector.items():
                self._example_postings[term].append((index, value / norm))

    def _build_vocabulary(self) -> dict[tuple[str, int], list[str]]:
        """Known stems bucketed by first letter and length, for fast typo correction."""
        buckets: dict[tuple[str, int], list[str]] = defaultdict(list)
        for term in self._postings:
            if not term.startswith(_CONCEPT_TERM) and len(term) >= 4:
                buckets[(term[0], len(term))].append(term)
        return buckets

    # ---- query-time helpers ----

    def correct_typos(self, terms: list[str]) -> list[str]:
        """Replace unknown stems by the closest known stem (same first letter, similar length)."""
        out: list[str] = []
        for term in terms:
            if term in self._postings or len(term) < 5 or term.startswith(_CONCEPT_TERM):
                out.append(term)
                continue
            candidates: list[str] = []
            spread = 2 if len(term) >= 8 else 1
            for length in range(len(term) - spread, len(term) + spread + 1):
                candidates.extend(self._vocabulary.get((term[0], length), ()))
            best = process.extractOne(term, candidates, scorer=fuzz.ratio, score_cutoff=82) if candidates else None
            out.append(best[0] if best else term)
        return out

    def score_articles(self, query: Counter[str], language: str, limit: int = 50) -> list[tuple[float, int]]:
        scores: dict[int, float] = defaultdict(float)
        # In a large index, terms found in a quarter of all articles add little to the ranking
        # but most of the cost, so they are skipped there.
        common = len(self._docs) // 4 if len(self._docs) >= 1000 else len(self._docs) + 1
        for term, q in query.items():
            postings = self._postings.get(term)
            if not postings or len(postings) > common:
                continue
            qw = 1.0 + math.log(q) if q >= 1 else q
            if term.startswith(_CONCEPT_TERM):
                for index, weight in postings:
                    # Across languages only concepts can match, so they count double there.
                    scores[index] += qw * weight * (2.0 if self._docs[index].language != language else self.CONCEPT_BOOST)
            else:
                for index, weight in postings:
                    scores[index] += qw * weight
        return heapq.nlargest(limit, ((s, i) for i, s in scores.items()))

    def search(self, text: str, *, language: str | None = None, limit: int = 10) -> list[tuple[str, float]]:
        """Rank articles for a free-text search (knowledge-base search box, agent lookups).

        Search queries are too short for language detection to be reliable, so the query is
        stemmed in all three languages; articles in the requested language come first.
        """
        query: Counter[str] = Counter()
        for lang in ("sv", "en", "fi"):
            query.update(set(self.correct_typos(_stems(text, lang))))
        for key, n in self.matcher.find(fold(text)).items():
            query[_CONCEPT_TERM + key] += 1 + 0.25 * (n - 1)
        ranked = self.score_articles(query, language or detect_language(text), limit=max(limit * 20, 200))
        hits = [(self._docs[i].slug, s) for s, i in ranked if language is None or self._docs[i].language == language]
        return hits[:limit]

    def score_profiles(self, query: Counter[str]) -> dict[str, float]:
        vector = {t: (1 + math.log(c)) * self._profile_idf[t] for t, c in query.items() if c >= 1 and t in self._profile_idf}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        return {
            code: sum(profile.get(t, 0.0) * v for t, v in vector.items()) / norm
            for code, profile in self._profiles.items()
        }

    def score_examples(self, query: Counter[str], k: int = 7) -> tuple[dict[str, float], dict[str, float]]:
        """kNN vote of learned examples: (department -> weight, article slug -> weight)."""
        if not self._examples:
            return {}, {}
        vector = {t: (1 + math.log(c)) * self._example_idf[t] for t, c in query.items() if c >= 1 and t in self._example_idf}
        norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
        sims: dict[int, float] = defaultdict(float)
        for term, value in vector.items():
            for index, weight in self._example_postings.get(term, ()):
                sims[index] += weight * value / norm
        top = sorted(sims.items(), key=lambda kv: kv[1], reverse=True)[:k]
        departments: dict[str, float] = defaultdict(float)
        articles: dict[str, float] = defaultdict(float)
        for index, sim in top:
            example = self._examples[index][1]
            departments[example.department] += sim * example.weight
            if example.article:
                articles[example.article] += sim * example.weight
        return departments, articles


# --- Deciding ---------------------------------------------------------------------------------


def _rule_match(model: RoutingModel, enquiry: Enquiry, folded_text: str) -> Rule | None:
    domain = enquiry.sender_email.rpartition("@")[2].lower().strip()
    for rule in model.rules:
        if rule.sender_domain and domain and (domain == rule.sender_domain.lower() or domain.endswith("." + rule.sender_domain.lower())):
            return rule
        if rule.phrase and fold(rule.phrase) in folded_text:
            return rule
    return None


def _threshold(model: RoutingModel, channel: str, department: str) -> float | None:
    policy = model.policy
    if channel == "phone":
        return None
    if channel == "chat":
        return policy.chat_threshold
    if channel == "email":
        configured = model.departments.get(department, Department(code=department)).email_auto_answer_threshold
        return configured if configured is not None else policy.email_threshold
    return policy.default_threshold


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def decide(model: RoutingModel, enquiry: Enquiry, *, now: datetime | None = None) -> Decision:
    """Route one enquiry. Pure: the same model and enquiry always give the same decision."""
    clean = clean_message(enquiry.text, enquiry.subject)
    main = clean.main
    language = detect_language(clean.body or main, enquiry.language)
    folded_main = fold(main)
    folded_all = fold(main + "\n" + clean.signature)
    reasons: list[str] = []

    business, business_why = detect_business(clean, folded_all, main + "\n" + clean.signature)
    c_score, c_cues = complaint_score(folded_main)
    complaint = c_score >= 3.0
    reference, reference_department = case_reference(main)
    cs_score, cs_cues = case_specific_score(folded_main)
    if any(key.endswith("/flera") for key in model.matcher.find(folded_main)):
        # Questions spanning several departments get a considered answer from an agent.
        cs_score += 2.0
        cs_cues.append("frågor till flera verksamheter")
    if clean.is_reply:
        # A reply to our earlier message is by definition part of an ongoing matter.
        cs_score += 2.5
        cs_cues.insert(0, "svar i en pågående konversation")

    # Query features: stems (subject counted twice: it is the sender's own summary) + concepts.
    query: Counter[str] = Counter(model.correct_typos(_stems(main, language)))
    query.update(_stems(clean.subject, language))
    found = model.matcher.find(folded_main)
    subject_concepts = model.matcher.find(fold(clean.subject)) if clean.subject else {}
    for key, n in found.items():
        query[_CONCEPT_TERM + key] += 1 + 0.25 * (n - 1) + (1 if key in subject_concepts else 0)

    # Department evidence.
    lexicon: dict[str, float] = defaultdict(float)
    for key, n in found.items():
        concept = model.concept_by_key[key]
        if concept.department and concept.department in model.departments:
            boost = 1.0 + 0.25 * (n - 1) + (0.5 if key in subject_concepts else 0.0)
            lexicon[concept.department] += concept.weight * boost
    ranked = model.score_articles(query, language)
    top_score = ranked[0][0] if ranked else 0.0
    article_evidence: dict[str, float] = defaultdict(float)
    for score, index in ranked[:5]:
        dept = model._docs[index].department
        article_evidence[dept] = max(article_evidence[dept], score)
    profiles = model.score_profiles(query)
    example_depts, example_articles = model.score_examples(query)

    scores: dict[str, float] = {}
    for code in model.departments:
        scores[code] = (
            lexicon.get(code, 0.0)
            # Relative to the best article, damped when even the best match is weak.
            + 4.0 * (article_evidence.get(code, 0.0) / top_score * min(top_score / 8.0, 1.0) if top_score else 0.0)
            + 6.0 * profiles.get(code, 0.0)
            + 2.5 * example_depts.get(code, 0.0)
        )
    ordered = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    department, best = ordered[0]
    runner_up = ordered[1][1] if len(ordered) > 1 else 0.0
    dept_confidence = best / (best + runner_up) if best > 0 else 0.0

    specialist_hits = sum(1 for code, s in lexicon.items() if code != FALLBACK_DEPARTMENT and s >= 4.0)
    lexicon_best = max(lexicon.values(), default=0.0) + 2.5 * max(example_depts.values(), default=0.0)
    if lexicon_best < model.policy.vague_score and best < 2 * model.policy.vague_score:
        department = FALLBACK_DEPARTMENT
        reasons.append("för otydligt för att avgöra verksamhet")
    elif specialist_hits >= 3 and lexicon.get(FALLBACK_DEPARTMENT, 0.0) >= 3.0:
        department = FALLBACK_DEPARTMENT
        reasons.append("rör flera verksamheter")
    else:
        top_concepts = sorted(
            (k for k in found if model.concept_by_key[k].department == department),
            key=lambda k: -model.concept_by_key[k].weight,
        )[:3]
        words = ", ".join(k.split("/", 1)[1] for k in top_concepts)
        reasons.append(f"ämnet tillhör {department}" + (f" ({words})" if words else ""))

    priority: str | None = None
    rule = _rule_match(model, enquiry, folded_all)
    if rule is not None:
        if rule.department and rule.department in model.departments:
            department = rule.department
        priority = rule.priority
        reasons.insert(0, f"regel {rule.name or rule.sender_domain or rule.phrase!r}")
    elif reference_department and reference_department in model.departments:
        department = reference_department
        reasons[:] = [f"ärendenummer {reference} hör till {department}"]

    # Article choice: the best article of the chosen department, informed by learned examples.
    candidates: list[tuple[float, int]] = []
    for score, index in ranked[:20]:
        bonus = example_articles.get(model._docs[index].slug, 0.0) * top_score * 0.3
        candidates.append((score + bonus, index))
    candidates.sort(reverse=True)
    suggestions = tuple(
        Suggestion(
            slug=model._docs[i].slug,
            title=model._docs[i].title,
            department=model._docs[i].department,
            language=model._docs[i].language,
            score=round(s, 3),
        )
        for s, i in candidates[: model.policy.suggestion_count]
    )
    in_department = [(s, i) for s, i in candidates if model._docs[i].department == department]
    article: str | None = None
    article_confidence = 0.0
    features: dict[str, float] = {}
    if in_department:
        s1, i1 = in_department[0]
        others = [s for s, i in candidates if i != i1]
        s2 = others[0] if others else 0.0
        doc = model._docs[i1]
        shared_core = {k for k in doc.core_concepts if model.concept_by_key[k].department} & set(found)
        margin = (s1 - s2) / s1 if s1 else 0.0
        cross_language = doc.language != language
        # Across languages only concepts can overlap, so coverage is measured on concepts alone.
        known = {
            t: model._idf.get(t, model._max_idf * 0.5)
            for t in query
            if not cross_language or t.startswith(_CONCEPT_TERM)
        }
        total_idf = sum(known.values()) or 1.0
        cover = sum(v for t, v in known.items() if t in model._doc_terms[i1]) / total_idf
        strength = min(s1 / 12.0, 1.0)
        general = 1.0 if _GENERAL_RE.search(folded_main) else 0.0
        article_confidence = (
            0.30 * strength
            + 0.25 * margin
            + 0.15 * (1.0 if shared_core else 0.0)
            + 0.15 * min(cover * 1.6, 1.0)
            + 0.15 * min(dept_confidence * 1.5 - 0.5, 1.0)
            + 0.08 * general
            - 0.12 * cs_score
        )
        if reference:
            article_confidence = min(article_confidence, 0.2)
        article_confidence = max(0.0, min(article_confidence, 1.0))
        article = doc.slug
        features = {"s1": s1, "margin": margin, "core": len(shared_core), "cover": cover, "cs": cs_score, "qlen": len(query), "gen": general}

    threshold = _threshold(model, enquiry.channel, department)
    confidence = dept_confidence
    action: Action
    blocked = complaint and not model.policy.complaint_auto_answer
    if reference or cs_score >= 2.0:
        reasons.append("gäller ett specifikt ärende" + (f" ({cs_cues[0]})" if cs_cues else ""))
    if complaint:
        reasons.append("klagomål på stadens service" + (f" ({c_cues[0]})" if c_cues else ""))
    answerable = article is not None and not blocked and not reference and rule is None
    if answerable and threshold is not None and article_confidence >= threshold:
        action = "answer"
        confidence = article_confidence
        reasons.append(f"artikeln {article} besvarar frågan")
    elif answerable and enquiry.channel == "phone" and article_confidence >= model.policy.default_threshold:
        # The enquiry is answerable from the knowledge base; on the phone the channel policy
        # (intake) never sends anything itself: the agent on the call answers with the article.
        action = "answer"
        confidence = article_confidence
        reasons.append(f"agenten kan svara med artikeln {article} i samtalet")
    else:
        article = None
        action = "agent" if department == FALLBACK_DEPARTMENT else "escalate"
    if business:
        reasons.append(business_why)

    return Decision(
        action=action,
        department=department,
        article=article,
        confidence=round(confidence, 4),
        language=language,
        complaint=complaint,
        business=business,
        explanation=_sentence("; ".join(r for r in reasons if r)),
        priority=priority,
        suggestions=suggestions,
        case_reference=reference,
        article_confidence=round(article_confidence, 4),
        department_scores=tuple((c, round(s, 3)) for c, s in ordered[:4]),
        decided_at=now,
        features=features,
    )


def build_model(
    *,
    departments: Sequence[Department],
    articles: Sequence[Article],
    examples: Sequence[Example] = (),
    rules: Sequence[Rule] = (),
    policy: Policy | None = None,
    version: str = "",
) -> RoutingModel:
    return RoutingModel(
        departments=departments,
        articles=articles,
        examples=examples,
        rules=rules,
        policy=policy,
        version=version,
    )


__all__ = [
    "Article",
    "Decision",
    "Department",
    "Enquiry",
    "Example",
    "Policy",
    "Rule",
    "RoutingModel",
    "Suggestion",
    "build_model",
    "decide",
]
