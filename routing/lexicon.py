"""The hand-written domain lexicon: concepts, their words in Swedish, English and Finnish, and the
department that owns each concept.

Why a lexicon at all: a municipality's knowledge base is small (tens of articles per department)
and enquiries are short, so purely statistical matching has too little to learn from, and it
cannot bridge languages (an English question answered by a Swedish article). A concept ties the
words of three languages together; it is both evidence for a department and a shared feature for
matching articles across languages.

Format of ``CONCEPTS`` (one concept per line)::

    <department or -> <weight> <concept>: <pattern>, <pattern>, ...

Patterns are written folded (å/ä -> a, ö -> o, lower case) and are regular-expression fragments
without commas. A pattern matches at the start of a word and may continue into the rest of the
word (so ``parker`` matches "parkeringen"); a leading ``~`` lets it match inside a compound
("boendeparkering"); a trailing ``$`` demands the end of a word. Spaces match any whitespace.
A negative weight is evidence *against* the department (for rules such as "how a fee was
calculated belongs to the department that decided it, not to invoicing").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONCEPTS = r"""
bygglov 4 bygglov: ~bygglov, building permit, planning permission, permit to build, rakennuslu, rakennuslup
bygglov 3 rivningslov: rivningslov, ~rivningslov, rivning, riva (ett|en|var|vart|garage|huset), demolition, demolish, purkulupa
bygglov 3 marklov: marklov, ~marklov, schakta pa tomten, fylla ut tomten
bygglov 4 attefall: ~attefall, komplementbostadshus, komplementbyggnad, gasthus, friggebod, ~friggebod
bygglov 3 tillbyggnad: tillbyggnad, ~tillbyggnad, bygga till, bygga pa en vaning, pabyggnad, ~pabyggnad, extension to (my|our|the) house, lisarakennu, laajennu
bygglov 3 byggprocess: startbesked, slutbesked, tekniskt samrad, kontrollplan, kontrollansvarig, ka-intyg, ~ritning, situationsplan, sektionsritning, fasadritning, planritning, grannemedgivande, grannehorande
bygglov 3 detaljplan: detaljplan, planbestammels, byggratt, zoning plan, asemakaav, vad (jag|vi) far bygga, fastighetsbeteckning
bygglov 3 eldstad: eldstad, ~kamin, kamin, vedspis, kakelugn, skorsten, rokkanal, fireplace, wood stove, woodburning stove, chimney, takka, tulisija, savupiip
bygglov 3 altan: altan, tradack, uteplats, skarmtak, carport, plank$, planket, mur$, deck$, decking, terrace, patio, terassi
bygglov 3 solceller: solcell, ~solcell, solpanel, ~solpanel, solfangare, solar panel, aurinkopaneel
bygglov 3 skylt: skylt$, skylten, skyltar, ljusskylt, fasadskylt, reklamskylt, ~ljusskylt, sign on (the|our) (facade|shop), mainoskyltti
bygglov 3 fasad: fasad, ~fasad, takkupa, kupa$, dormer, inglasning, inglasa, balkong, fonsterbyte, byta fonster, ventilationskanal, imkanal, julkisivu
bygglov 3 olovligt: olovlig, svartbygge, utan bygglov, har (de|grannen) bygglov, anmala (ett )?bygge
bygglov 4 byggsanktion: byggsanktion, ~byggsanktion
bygglov 3 arkiv: bygglovsarkiv, gamla ritningar, ritningar (pa|till|over) (mitt|vart|huset), ritningarna till
bygglov 2 bygga: bygga$, bygger, bygget, byggnad, nybyggnad, nybygg, flerbostadshus, garage, forrad, build$, building, rakentaa, rakennus
bygglov 1 tomt: tomtgrans, tomten, tomt$, property line, tontti

miljotillsyn 4 buller: buller, ~buller, bullr, oljud, stor(ande|ningar|ning)$, noise, noisy, loud, melu, meteli, kovaa aanta, aanta
miljotillsyn 4 byggbuller: byggbuller, ~byggbuller, byggarbetsplats, borra(r)? och spika, spikar, construction noise, rakennusmelu
miljotillsyn 3 musik: hog musik, spelar musik, musiken, skaller, basen, bass$, music, musiikki
miljotillsyn 2 flakt: flakt, ~flakt, ventilation, brummar, kompressor, fan$
miljotillsyn 4 lukt: lukt, luktar, ~lukt, stank, ~stank, stekos, odour, odor, smell, haju, haise
miljotillsyn 4 rok: rok fran, roken, vedeldning, eldning, eldar, smoke, savu
miljotillsyn 5 mogel: mogel, ~mogel, fukt, ~fukt, mould, mold, damp, home$, kosteu
miljotillsyn 5 radon: radon, ~radon
miljotillsyn 5 skadedjur: skadedjur, ~skadedjur, rattor, rattorna, ratta$, moss$, moss i, kackerlack, vaggloss, silverfisk, pests?$, rats?$, mice, cockroach, rotta, rotat, tuholai
miljotillsyn 5 livsmedel: livsmedel, ~livsmedel, food business, food authorit, food safety, food truck, foodtruck, elintarvik
miljotillsyn 2 matverksamhet: pizzeria, bageri, bakery, kafe, ~kafe, cafe, gatukok, kiosk med mat, cateringkok, sushi
miljotillsyn 4 hygienisk: tatuer, ~tatuer, tattoo, piercing, fotvard, microblading, nagelsalong, nagelstudio, hudvard, hygienisk, ~hygienisk, solarium, akupunktur, fransstylist, tatuoin
miljotillsyn 5 varmepump: varmepump, ~varmepump, bergvarme, jordvarme, sjovarme, heat pump, maalampo, ~lampopumpp
miljotillsyn 4 inspektion: inspektor, inspektion, livsmedelskontroll, kontrolltid, avvikelse, inspector, inspection, tarkastu
miljotillsyn 3 miljo: miljotillsyn, miljoforvaltning, miljonamnd, miljoinspekt, halsoskydd, environmental health, ymparist
miljotillsyn 3 lokaltillsyn: skollokal, forskolelokal, ~forskolelokal, lokaler for (forskola|skola), ombyggnad av (var|en) forskola, bygga om (vara|sina|lokalerna)
miljotillsyn 3 avlopp: enskilt avlopp, avloppsanlaggning, dricksvatten, badvatten, brunn$

serveringstillstand 5 servering: serveringstillstand, ~serveringstillstand, serveringstid, ~serveringstid, serveringsstalle, alkoholtillstand, serveringsratt, alcohol licen, liquor licen, serving licen, licence to serve, anniskelu, alkoholilup
serveringstillstand 3 alkohol: alkohol, ~alkohol, servera (ol|vin|sprit|alkohol), ol och vin, vin och ol, sprit$, alcohol, beer, wine, alkoholi, olut, viini
serveringstillstand 2 uteservering: uteservering, ~uteservering, outdoor seating, terassi
serveringstillstand 5 kunskapsprov: kunskapsprov, ~kunskapsprov, alkohollag, knowledge test, tietokoe
serveringstillstand 4 slutet: tillfalligt tillstand, tillfalligt serveringstillstand, slutet sallskap, slutna sallskap, ~sallskap, private party, private event, yksityistilaisuu
serveringstillstand 1 fest: brollop, fest$, festen, festlokal, arsfest, wedding, party, juhla, haat
serveringstillstand 5 tobak: tobak, ~tobak, snus$, snuset, cigarett, ~cigarett, e-cig, nikotin, folkol, receptfria lakemedel, vape, vaping, tobacco, tupak, nuuska
serveringstillstand 4 ordning: overserv, berusad, berusade, fulla gaster, drunk, ordningsvakt, vakter$, krog, nattklubb, pub$, bar$, baren, under 18, minderarig, ungdomar under, alderskontroll, humalai
serveringstillstand 2 catering: catering, ~catering

avfall 4 sophamtning: sophamtning, ~sophamtning, sopor, ~sopor, soporna, sopkarl, soptunn, ~soptunn, sopbil, ~sopbil, karl(et|en|s)?$, ~karl(et|en)?$, hamtning, hamtdag, ~hamtdag, tomning, ~tomning, tomma(s)?$, tomdes, tomts, renhallning, garbage, trash, bins?$, rubbish, roska, jate, ~jate, tyhjen
avfall 4 matavfall: matavfall, ~matavfall, bruna pasar, papperspas, ~papperspas, food waste, biojat, kompost, ~kompost
avfall 5 grovavfall: grovavfall, ~grovavfall, atervinningscentral, ~atervinningscentral, kretsloppspark, ~kretslopp, bulky waste, recycling cent, kierratyskesku, soffa, sofa, madrass, mattress, furniture, mobler, vitvar, tv$, electronics, kyl$, kylskap, frys$
avfall 5 farligt: farligt avfall, farligtavfall, miljobil, fargburk, farg och, lysror, batteri, elavfall, kemikali, terpentin, sprayburk, hazardous, vaarallinen jate, ongelmajat
avfall 4 forpackning: forpackning, ~forpackning, atervinningsstation, ~atervinningsstation, glasburk, glas$, kartong, plastforp, pizza box, recycl, sortera, sortering, kierraty, lajittel, pant$
avfall 3 abonnemang: avfallsabonnemang, sopabonnemang, ~abonnemang, karlstorlek, mindre karl, storre karl, liters?$, \d+ liter, glesare hamtning, tatare hamtning, dela karl, dela pa (sop)?karl
avfall 2 waste: waste, avfall, ~avfall

forskola 5 forskola: forskol(?!eklass), ~forskol(?!eklass), forskoleplats, preschool, pre-school, kindergarten, nursery school, daycare, day care, childcare, child care, esikoulu, paivakoti, paivakodi, varhaiskasvatu, fritids, fritidshem, pedagogisk omsorg, dagbarnvard, dagmamma
forskola 3 ko: (i|till|ställa i|stalla i) kon?$, koplats, kotid, kotiden, garantitid, waiting list, queue for (a )?place, jonossa, jono$
forskola 4 placering: placering, erbjudande om plats, erbjudandet, tacka(de)? ja, inskolning, ~inskolning, barnomsorg, ~barnomsorg, sommarforskola, kvallsforskola, nattis, obekvam tid, obekvama tider, kvallar och helger, evenings and weekends, night shift, evening care
forskola 4 maxtaxa: maxtaxa, barnomsorgsavgift, forskoleavgift, inkomstuppgift, ~inkomstuppgift, preschool fee, childcare fee, varhaiskasvatusmaksu
forskola 3 plats: fick inte plats, plats inom, fa plats, fatt plats, ny plats, byta (forskola|plats)
forskola 4 uppsagning: saga upp platsen, saga upp forskoleplatsen, uppsagning av (forskole)?plats, uppsagningstid
forskola 4 barnpeng: barnpeng, skolpeng, ersattning till fristaende, fristaende forskol
forskola 2 barn: barnet, barnen, barn$, var son, var dotter, min son, min dotter, lapsi, lapse, child$, our (son|daughter)

parkering 5 parkering: parker, ~parker, p-bot, p-plats, pbot, ~parkeringsbot, felparkeringsavgift, ~felparker, bot$, boter, boten, ~boter$, parkeringsvakt, parking, parked, park my car, pysakoin, pysakointi, parkki, sakko
parkering 5 boendeparkering: boendeparkering, ~boendeparkering, residential parking, residents? parking
parkering 4 rorelsehindrad: rorelsehindrad, ~rorelsehindr, disabled parking, disability parking, liikkumisesteis, invalidi
parkering 5 flyttad: flyttad bil, bilen (ar|har) (borta|flyttad|bortforslad|forsvunnen), min bil ar borta, bortforsl, uppstallningsplats, bargad, bargning, towed, tow$, impound, siirretty, hinattu, flyttat (min|var) bil
parkering 3 fordon: overgiv, husbil, skrotbil, avstallt fordon, fordon, abandoned (car|vehicle), hylatty auto, reg\.? ?nr, registreringsnummer
parkering 3 laddplats: laddplats, ~laddplats, laddstolp, ~laddstolp, ladda elbil, charging point, charger, latauspiste
parkering 2 kontrollavgift: kontrollavgift, parkeringsbolag, transportstyrelsen, tillaggsavgift, betalningsuppmaning
parkering 3 verksamhet: hantverkarparkering, hantverkarkort, servicebil, verksamhetstillstand, gastparkering, ~gastparkering
parkering 1 bil: bil$, bilen, car$, auto$, autoni

socialtjanst 5 ekonomiskt: ekonomiskt bistand, forsorjningsstod, ~forsorjningsstod, socialbidrag, financial assistance, financial help, financial support, welfare, social assistance, toimeentulotu, inte pengar till hyran, inga pengar, raknar inte till hyran, racker inte till hyran, pay rent and food
socialtjanst 5 oro: orosanmal, ~orosanmal, orolig for (barn|barnen|grannens)?, barn som far illa, far illa, concern for a child, worried about (a|the) child, lastensuojeluilmoitu, huolestun
socialtjanst 5 vald: vald i nara relation, ~vald i nara, hotar (mig|henne|honom), kvinnojour, misshandl, kontrollerar (hennes|min|hans) ekonomi, domestic violence, lahisuhdevakival, vakival
socialtjanst 5 missbruk: missbruk, ~missbruk, dricker for mycket, beroende, narkotik, alkoholproblem, spelberoende, addiction, drinking problem, paihde
socialtjanst 5 hemtjanst: hemtjanst, ~hemtjanst, home care, home help, home-care, kotipalvelu, kotihoi, trygghetslarm, matdistribution
socialtjanst 5 aldreboende: aldreboende, ~aldreboende, sarskilt boende, serviceboende, korttidsboende, nursing home, care home, hoivakoti, vanhainko, vanhustenhuol, vanhuspalvelu, demens, minnessjuk, anhorigstod, ~anhorigstod, aldreomsorg
socialtjanst 6 bostadsanpassning: bostadsanpassning, ~bostadsanpass, rullstol, rullator, housing adaptation, asunnonmuutos, troskel, trosklar, duschen? istallet for badkar, badkaret mot en dusch
socialtjanst 4 lss: lss$, funktionsnedsattning, ~funktionsnedsatt, personlig assistan, ledsagar, daglig verksamhet, disabilit, vammai
socialtjanst 5 familjeratt: familjeratt, ~familjeratt, faderskap, ~faderskap, foraldraskap, vardnad, umgange, custody, paternity, isyy
socialtjanst 5 skuld: skuldradgivning, budgetradgivning, skulder, debt advice, velkaneuvo
socialtjanst 4 akt: min akt, personakt, akten$, familjehem, socialtjanst, ~socialtjanst, socialsekreterare, socialkontor, sosiaalitoimi, social services, social worker
socialtjanst 4 hemlos: hemlos, sover i trapphuset, sover i (var|en) trappuppgang, bostadslos, homeless, asunnoton, uteligg
socialtjanst 3 aldre: aldre (man|kvinna|person), min mamma, min pappa, isani, aitini, my mother, my father

gata-park 4 felanmalan: felanmal, ~felanmal, potthal, ~potthal, hal i (gatan|vagen|asfalten), gatubelysning, gatlykt, ~gatlykt, lyktstolp, belysningen, slackt, slackta, lekplats, ~lekplats, gunga, gungor, gungorna, lekredskap, klotter, ~klotter, nedskrap, ~nedskrap, dumpat, dumpning, parkbank, ~parkbank, papperskorg, pothole, street ?light, playground, graffiti, litter, katuvalo, kuoppa, leikkipaik
gata-park 5 snorojning: snorojning, ~snorojning, plog, ~plog, skotta, halka, ~halka, halkbekampning, sandning, snovall, ~snovall, istapp, snoat, sno$, snon$, isig, snow, plough, plow, gritting, icy, lumi, aura, liuka
gata-park 3 gata: gangbana, ~gangbana, trottoar, ~trottoar, cykelvag, ~cykelvag, gangvag, ~gangvag, gatusopning, vagarbete, asfalt, sidewalk, pavement, katu$, jalkakaytava
gata-park 4 park: park$, parken, parker$, parkerna, parkmark, kommunens tomt, kommunal mark, gronomrade, skog$, skogen, grilla, grillning, engangsgrill, odlingslott, koloniomrade, puisto
gata-park 4 trad: trad$, tradet, traden, tradfallning, ~tradfallning, fall(a|ning) (ett )?trad, grenar, grenarna, rotter, rotterna, arborist, lutar (kraftigt|mot), stormen, kan falla, tree, trees, branches, puu$, puun, puita
gata-park 5 upplatelse: upplatelse, ~upplatelse, offentlig plats, container, byggstallning, stallning, flyttbil, ~flyttbil, evenemang, torghandel, ta-plan, trafikanordningsplan, kranlyft, schakt, ~schakt, gravtillstand, moving van, skip on the street, public land, scaffolding
gata-park 5 trafik: farthinder, ~farthinder, fartgupp, hastighet, kor for fort, kor alldeles for fort, trafiksakerhet, skymmer sikten, hack$, hacken, hackar, overgangsstalle, speed bump, speeding, hidaste, liikenneturvall
gata-park 4 skadestand: skadestand, ~skadestand, halkade, fallt pa, brot (handleden|benet|armen), skadad bil, falgen, damage claim, compensation for (the )?damage, vahingonkorvau

skatt-avgifter 7 betalsatt: autogiro, e-faktura, efaktura, ocr, direct debit, e-invoice, e-lasku, suoramaksu
skatt-avgifter 5 faktura: faktura, ~faktura, invoice, bill$, lasku, ~lasku, ocr, paminnelse, ~paminnelse, inkasso, ~inkasso, betalningsplan, avbetalning, ~avbetalning, delbetal, dela upp betalningen, anstand med (att )?betal, autogiro, e-faktura, efaktura, kundnummer, forfallodag, betalt tva ganger, betalat (den )?tva ganger, betalat .{0,20}tva ganger, payment plan, direct debit, erapaiva, maksumuistutu
skatt-avgifter 5 aterbetalning: aterbetal, ~aterbetal, tillbaka pengarna, pengarna tillbaka, refund, palautu
skatt-avgifter 3 betalning: betalning, betala, betalat, betalt, payment, pay$, paid, maksu, maksaa
skatt-avgifter 4 fakturamottagare: fakturamottagare, fakturaadress, ~fakturaadress, invoice address, billing address
skatt-avgifter 5 kommunalskatt: kommunalskatt, ~kommunalskatt, skattesats, kommunal skatt, skatten i solna, income tax, municipal tax, kunnallisvero, tuloverot?
skatt-avgifter 3 sammanstallning: sammanstallning av (allt|alla|mina)?, alla betalningar, betalat till kommunen
skatt-avgifter -8 avgiftsberakning: hur (kan det bli|har ni raknat|raknas|beraknas|beraknades|bestams)( ut)?, fel antal (timmar|barn), kontrolltimmar, antal timmar, dubbelt sa hog, nastan dubbelt, hogre an forra, fel belopp, andrad avgift, varfor (ar|blev) (avgiften|fakturan|faktureringen), \d+ timmar, timmars (kontroll|tillsyn|inspektion)

kundtjanst 4 kundtjanst: kundtjanst, ~kundtjanst, kontaktcent, oppettid, ~oppettid, oppet$, har ni oppet, stadshus, medborgarservice, customer service, contact centre, asiakaspalvelu, aukioloaj, opening hours
kundtjanst 5 finska: finska, pa finska, suomeksi, suomi$, suomea$, suomen$, suomen kiel, hallintoalue, finnish, forvaltningsomrade, tolk$, tolken, interpreter, tulkki
kundtjanst 5 myndighet: pass$, passet, id-kort, nationellt id, fardtjanst, ~fardtjanst, pension, ~pension, elake, ~elake, elakk, ~elakk, deklaration, ~deklaration, skatteverket, forsakringskassan, arbetsformedling, migrationsverket, korkort, lantmateri, folkbokfor, skatteskriv, passport, driving licen, kela$
kundtjanst 4 sfi: sfi$, svenska for invandrare, learn swedish, swedish (course|lessons|classes), ruotsin kur
kundtjanst 5 handlingar: allmanna handlingar, allman handling, handlingar (fran|om) staden, ta del av (samtliga|alla|handlingar), begaran om handling, public documents?, public records?, offentlighetsprincip, diarium, asiakirj
kundtjanst 4 etjanst: e-tjanst, ~e-tjanst, etjanst, logga in, inloggning, loggades ut, bankid, losenord, hemsida, ~hemsida, webbplats, website, log in, sokfunktion, kirjaudu, verkkopalvelu
kundtjanst 4 synpunkt: synpunkt, ~synpunkt, tyck till, berom, lamna berom, feedback, palaute, anonym
kundtjanst 3 flytta: flyttat (hit|till solna), flyttade (hit|till solna), moving to solna, moved to solna, just moved, new to solna, muutin, muuttanut
kundtjanst 8 skola: skolval, forskoleklass, grundskola, gymnasi, skolan$, school$, schools, koulu
kundtjanst 9 flera: flera fragor, nagra fragor, several questions, which permits, what permits, vilka tillstand och anmalningar, vilka tillstand (behover|kravs|som kravs), tillstand och anmalningar, mita lupia

- 3 kostnad: gratis, free$, ilmai, avgiftsfri, kosta, kostar, kostnad, avgift, avgiften, pris$, priset, taxa, taxan, cost, price, fee$, fees, charge, maksaa, hinta, maksu
- 3 tid: handlaggningstid, ~handlaggningstid, hur lang tid, hur lange, how long, processing time, kasittelyaika, kauanko
- 2 ansokan: ansok, ~ansokan, soka$, soker, apply, application, hakemu, haeta, hakea
- 2 anmalan: anmal, ~anmalan, anmala, notify, notification, report$, ilmoitu, ilmoitta
- 2 oppettider: oppet, oppettid, open$, opening hours, aukiolo, auki
- 2 engelska: english, engelska, englanniksi
"""


@dataclass(frozen=True, slots=True)
class Concept:
    key: str  # "department/name" or "-/name"
    department: str | None
    weight: float
    patterns: tuple[str, ...]


def _compile_pattern(pattern: str) -> str:
    infix = pattern.startswith("~")
    body = pattern[1:] if infix else pattern
    word_end = body.endswith("$")
    if word_end:
        body = body[:-1]
    body = body.replace(" ", r"\s+")
    return ("" if infix else r"\b") + f"(?:{body})" + (r"\b" if word_end else "")


def parse_concepts(source: str = CONCEPTS) -> tuple[Concept, ...]:
    concepts: list[Concept] = []
    for number, raw in enumerate(source.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        head, _, rest = line.partition(":")
        parts = head.split()
        if len(parts) != 3 or not rest.strip():
            raise ValueError(f"lexicon line {number}: expected '<dept> <weight> <name>: ...'")
        department, weight, name = parts
        patterns = tuple(p.strip() for p in rest.split(",") if p.strip())
        for pattern in patterns:
            re.compile(_compile_pattern(pattern))  # fail at import, not at the first enquiry
        concepts.append(
            Concept(
                key=f"{department}/{name}",
                department=None if department == "-" else department,
                weight=float(weight),
                patterns=patterns,
            )
        )
    return tuple(concepts)


_WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_LITERAL_RE = re.compile(r"[a-z0-9-]+")


class ConceptMatcher:
    """Finds concepts in folded text.

    Single-word patterns are matched per distinct word and the result is cached per word, so
    indexing thousands of articles costs one regex pass per new word rather than one pass of
    every concept over every text. Multi-word patterns run over the text only when their first
    literal word-start occurs in it.
    """

    def __init__(self, concepts: tuple[Concept, ...]) -> None:
        self.concepts = concepts
        self._word_regexes: list[tuple[int, re.Pattern[str]]] = []
        self._phrases: list[tuple[str | None, re.Pattern[str], int]] = []
        for index, concept in enumerate(concepts):
            anchored: list[str] = []
            for pattern in concept.patterns:
                if " " in pattern or "\\s" in pattern or "\\d" in pattern:
                    literal = _LITERAL_RE.match(pattern.lstrip("~"))
                    self._phrases.append(
                        (literal.group(0) if literal else None, re.compile(_compile_pattern(pattern)), index)
                    )
                    continue
                infix = pattern.startswith("~")
                body = pattern[1:] if infix else pattern
                word_end = body.endswith("$")
                body = body[:-1] if word_end else body
                anchored.append(("" if infix else "^") + f"(?:{body})" + ("$" if word_end else ""))
            if anchored:
                self._word_regexes.append((index, re.compile("|".join(anchored))))
        self._word_cache: dict[str, tuple[int, ...]] = {}

    def _word_concepts(self, word: str) -> tuple[int, ...]:
        hit = self._word_cache.get(word)
        if hit is None:
            hit = tuple(index for index, regex in self._word_regexes if regex.search(word))
            if len(self._word_cache) < 500_000:
                self._word_cache[word] = hit
        return hit

    def find(self, folded_text: str) -> dict[str, int]:
        """Concept key -> number of distinct matched surface forms (a crude strength)."""
        words = set(_WORD_RE.findall(folded_text))
        forms: dict[int, set[str]] = {}
        for word in words:
            for index in self._word_concepts(word):
                forms.setdefault(index, set()).add(word)
        prefixes = {word[:n] for word in words for n in range(1, len(word) + 1)}
        for literal, regex, index in self._phrases:
            if literal is not None and literal not in prefixes:
                continue
            hits = regex.findall(folded_text)
            if hits:
                forms.setdefault(index, set()).update(h if isinstance(h, str) else " ".join(h) for h in hits)
        return {self.concepts[index].key: len(found) for index, found in forms.items()}


# Case-number prefixes the city's departments use in their registers ("dnr BYGG 2024-123").
CASE_PREFIXES: dict[str, str] = {
    "bygg": "bygglov",
    "bn": "bygglov",
    "mhn": "miljotillsyn",
    "mil": "miljotillsyn",
    "alk": "serveringstillstand",
    "tob": "serveringstillstand",
    "avf": "avfall",
    "p": "parkering",
    "park": "parkering",
    "soc": "socialtjanst",
    "ta": "gata-park",
    "gp": "gata-park",
    "fsk": "forskola",
    "ks": "kundtjanst",
}
