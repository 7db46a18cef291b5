"""Resident-facing words of the survey (mail, chat frame, public page) in sv, en and fi.

Kept as data beside the survey so the three languages are reviewed together; the questions
themselves live in the database (``Question.text``)."""

from __future__ import annotations

LANGUAGES = ("sv", "en", "fi")

TEXTS: dict[str, dict[str, str]] = {
    "sv": {
        "mail_subject": "Hur var din kontakt med Solna stad?",
        "mail_intro": "Hej{name}!\n\nDu var nyligen i kontakt med oss om \"{subject}\". "
                      "Vi vill gärna veta hur du upplevde kontakten – det tar en minut.",
        "mail_pick": "Klicka på ett betyg (1 = mycket dåligt, 5 = mycket bra):",
        "mail_full": "Eller svara på hela enkäten här:",
        "mail_optout": "Vill du inte få fler enkäter från oss? Avregistrera dig här:",
        "mail_footer": "Det här är ett automatiskt meddelande och går inte att svara på.\n\n"
                       "Med vänliga hälsningar\nKontaktcenter, Solna stad",
        "chat": "Tack för att du kontaktade oss! Vill du svara på tre korta frågor om hur det gick?",
        "title": "Hur var din kontakt med oss?",
        "lead": "Dina svar hjälper oss att bli bättre. Enkäten är anonym för den som hjälpte dig.",
        "confirm_lead": "Du har valt ett betyg. Skicka dina svar med knappen nedan – du kan också svara på fler frågor.",
        "submit": "Skicka svar",
        "yes": "Ja", "no": "Nej", "optional": "valfritt",
        "thanks_title": "Tack för ditt svar!",
        "thanks": "Vi läser alla svar och använder dem för att förbättra vår service.",
        "answered": "Den här enkäten är redan besvarad. Tack!",
        "invalid_title": "Länken fungerar inte",
        "invalid": "Länken är ogiltig eller för gammal. Enkäter kan besvaras i {days} dagar.",
        "optout_title": "Avregistrera dig från enkäter",
        "optout_lead": "Bekräfta att du inte vill få fler enkäter från Solna stads kontaktcenter till {address}.",
        "optout_button": "Ja, skicka inga fler enkäter",
        "optout_done": "Klart. Vi skickar inga fler enkäter till dig.",
        "optout_link": "Vill du inte få enkäter? Avregistrera dig.",
        "required": "Svara på den här frågan.",
        "reference": "Ärende",
    },
    "en": {
        "mail_subject": "How was your contact with the City of Solna?",
        "mail_intro": "Hello{name},\n\nYou recently contacted us about \"{subject}\". "
                      "We would like to know how it went – it takes a minute.",
        "mail_pick": "Click a rating (1 = very poor, 5 = very good):",
        "mail_full": "Or answer the whole survey here:",
        "mail_optout": "Don't want any more surveys from us? Unsubscribe here:",
        "mail_footer": "This is an automatic message; replies are not read.\n\n"
                       "Kind regards\nThe contact centre, City of Solna",
        "chat": "Thank you for contacting us! Would you answer three short questions about how it went?",
        "title": "How was your contact with us?",
        "lead": "Your answers help us improve. The person who helped you does not see who answered.",
        "confirm_lead": "You picked a rating. Send your answers with the button below – you can answer more questions too.",
        "submit": "Send answers",
        "yes": "Yes", "no": "No", "optional": "optional",
        "thanks_title": "Thank you for your answer!",
        "thanks": "We read every answer and use them to improve our service.",
        "answered": "This survey has already been answered. Thank you!",
        "invalid_title": "This link does not work",
        "invalid": "The link is invalid or too old. Surveys can be answered for {days} days.",
        "optout_title": "Unsubscribe from surveys",
        "optout_lead": "Confirm that you no longer want surveys from the City of Solna's contact centre at {address}.",
        "optout_button": "Yes, send no more surveys",
        "optout_done": "Done. We will send you no more surveys.",
        "optout_link": "Don't want surveys? Unsubscribe.",
        "required": "Please answer this question.",
        "reference": "Case",
    },
    "fi": {
        "mail_subject": "Millainen oli yhteydenottosi Solnan kaupunkiin?",
        "mail_intro": "Hei{name}!\n\nOlit hiljattain yhteydessä meihin asiassa \"{subject}\". "
                      "Haluaisimme tietää, miten yhteydenotto sujui – vastaaminen vie minuutin.",
        "mail_pick": "Valitse arvosana (1 = erittäin huono, 5 = erittäin hyvä):",
        "mail_full": "Tai vastaa koko kyselyyn täällä:",
        "mail_optout": "Etkö halua enää kyselyjä meiltä? Peru tilaus täällä:",
        "mail_footer": "Tämä on automaattinen viesti, eikä siihen voi vastata.\n\n"
                       "Ystävällisin terveisin\nAsiakaspalvelu, Solnan kaupunki",
        "chat": "Kiitos yhteydenotostasi! Vastaisitko kolmeen lyhyeen kysymykseen?",
        "title": "Millainen oli yhteydenottosi meihin?",
        "lead": "Vastauksesi auttavat meitä kehittymään. Sinua auttanut henkilö ei näe, kuka vastasi.",
        "confirm_lead": "Valitsit arvosanan. Lähetä vastauksesi alla olevalla painikkeella – voit vastata myös muihin kysymyksiin.",
        "submit": "Lähetä vastaukset",
        "yes": "Kyllä", "no": "Ei", "optional": "vapaaehtoinen",
        "thanks_title": "Kiitos vastauksestasi!",
        "thanks": "Luemme kaikki vastaukset ja käytämme niitä palvelumme parantamiseen.",
        "answered": "Tähän kyselyyn on jo vastattu. Kiitos!",
        "invalid_title": "Linkki ei toimi",
        "invalid": "Linkki on virheellinen tai liian vanha. Kyselyyn voi vastata {days} päivän ajan.",
        "optout_title": "Kyselyjen peruminen",
        "optout_lead": "Vahvista, ettet enää halua Solnan kaupungin asiakaspalvelun kyselyjä osoitteeseen {address}.",
        "optout_button": "Kyllä, älä lähetä enää kyselyjä",
        "optout_done": "Valmis. Emme lähetä sinulle enää kyselyjä.",
        "optout_link": "Etkö halua kyselyjä? Peru tilaus.",
        "required": "Vastaa tähän kysymykseen.",
        "reference": "Asia",
    },
}


def texts_for(language: str) -> dict[str, str]:
    return TEXTS.get(language, TEXTS["sv"])
