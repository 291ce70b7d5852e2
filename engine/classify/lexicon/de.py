"""German."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="de",
    unsubscribe=(
        r"abmelden|austragen|keine (weiteren )?(e-?mails|nachrichten|kontakt)|widerspr(e|u)ch|"
        r"dsgvo|löschen sie (meine|unsere)|nicht mehr (kontaktieren|anschreiben|anmailen)|"
        r"(entfernen|streichen) sie (mich|uns)|aus (ihrem|dem) verteiler|"
        r"schreiben sie (mir|uns) nicht mehr|meine daten (zu )?löschen",
    ),
    not_interested=(
        r"(sind|bin) [^.!?\n]{0,40}zufrieden|zufrieden mit",
        r"kein(en|e)? (interesse|bedarf)|nicht interessiert|danke,? nein|haben bereits|"
        r"(sind|bin) (damit |sehr )*zufrieden|(selbst|intern) entwickelt|eigene[ns]? (lösung|"
        r"system|tool)|passt nicht zu uns|brauchen wir nicht|nicht relevant|"
        r"(^|\n)\s*nein,? danke|bereits (eingeführt|im einsatz)|erst (letztes|dieses) jahr",
    ),
    not_now=(
        r"(im|ab dem|zum) (ersten|zweiten|dritten|vierten|nächsten|kommenden) quartal|"
        r"noch einmal nach|andere prioritäten",
        r"später|derzeit nicht|momentan nicht|aktuell nicht|im moment nicht|zurzeit nicht|"
        r"melden sie sich|nächste[ns]? (quartal|jahr|monat)|nach den feiertagen|budgetstopp|"
        r"budget ist|im (januar|februar|märz|april|mai|juni|juli|august|september|oktober|"
        r"november|dezember)|nach (dem|der|den) \w+ (wieder|nochmal|erneut)|"
        r"(in|nach) (zwei|drei|vier|sechs|\d+) (wochen|monaten)|gerade keine zeit",
    ),
    interest=(
        r"interessiert|interesse|gerne (mehr|einen|ein)|schicken sie|senden sie|termin|"
        r"preise|gespräch|passt (ihnen|es)|telefonat|unterlagen|(klingt|hört sich) "
        r"(gut|interessant|spannend)|akut",
    ),
    wrong_person=(
        r"(bei mir|hier) (leider )?falsch|falsche (person|adresse|abteilung)",
        r"nicht zuständig|nicht der richtige|nicht die richtige|nicht mehr bei|falsche[nr]? "
        r"ansprechpartner|bin nicht (mehr )?(der|die) richtige|"
        # having left: "habe die Firma im März verlassen"
        r"(habe|hat) (die firma|das unternehmen|[\w-]+)( \w+){0,3} verlassen|"
        r"bin (\w+ ){0,3}ausgeschieden|im ruhestand|in rente|nicht mein (bereich|thema)|"
        r"weiß (leider )?nicht,? wer",
    ),
    referral=(
        r"wenden sie sich an|ansprechpartner(in)? (ist|wäre)|zuständig ist|kontaktieren sie|"
        r"weitergeleitet|kümmert sich",
    ),
    copying=(r"in (kopie|cc)|nehme .{0,30} (in kopie|dazu|mit rein)",),
    person_before=(r"wenden sie sich an|kontaktieren sie",),
    person_after=(r"ist zuständig|ist der|ist die|kümmert sich",),
    colleague=(r"kollegen?|kollegin",),
    scheduling_only=(r"assistenz|sekretariat",),
    someone_away=(
        r"\b(?:er|sie|herr \w+|frau \w+)\s+(?:ist|wird)\b[^.!?;,\n]{0,60}?(?:urlaub|elternzeit|"
        r"mutterschutz|abwesend|nicht im (?:büro|haus)|außer haus|krank|unterwegs|zurück)"
        r"[^.!?;,\n]*",
    ),
    negation=(r"\bkein\w*|\bnicht\b",),
    unsubscribe_words=(r"abmelden|austragen|abbestellen|bitte (abmelden|austragen)",),
    courtesy=(r"bitte|danke",),
    auto_reply=(
        (0.7, r"keinen zugriff auf (meine )?e-?mails"),
        (0.6, r"in dringenden fällen"),
        (
            0.9,
            r"wird nicht weitergeleitet|(adresse|postfach|mailbox|konto) ist nicht mehr|"
            r"nicht mehr (besetzt|aktiv|gelesen)",
        ),
        (
            0.9,
            r"nicht im büro|außer haus|ausser haus|abwesend|im urlaub|betriebsferien|"
            r"betriebsurlaub|elternzeit|mutterschutz|wieder (im büro|erreichbar|für sie da)",
        ),
        (
            0.9,
            r"automatisch (erstellt|generiert|versandt|versendet)|automatische (antwort|nachricht)",
        ),
    ),
    auto_subject=(r"abwesenheitsnotiz|automatische antwort",),
    attribution_start=(r"am\b",),
    attribution_verb=(r"schrieb",),
    quote_banner=(r"ursprüngliche nachricht|weitergeleitete nachricht",),
    header_from=(r"von",),
    header_other=(r"gesendet|datum|an|betreff|cc",),
    signature=(r"von meinem .* gesendet",),
    disclaimer=(
        r"vertraulich|bestimmt für den adressaten|sitz der gesellschaft|registergericht|"
        r"handelsregister|geschäftsführer",
    ),
    forward_subject=(r"wg",),
    months=(
        r"januar",
        r"februar",
        r"märz maerz",
        r"april",
        r"mai",
        r"juni",
        r"juli",
        r"august",
        r"september",
        r"oktober okt",
        r"november",
        r"dezember dez",
    ),
    weekdays=(
        r"montag",
        r"dienstag",
        r"mittwoch",
        r"donnerstag",
        r"freitag",
        r"samstag",
        r"sonntag",
    ),
    number_words=(
        r"einem=1",
        r"einen=1",
        r"zwei=2",
        r"drei=3",
        r"vier=4",
        r"sechs=6",
        r"acht=8",
    ),
    span_before=(r"in etwa|in ca\.?|in|nach",),
    month_units=(r"monate?n?",),
    week_units=(r"wochen?",),
    year_units=(r"jahre?n?",),
    next_quarter=(r"nächste[nms]? quartal|kommende[nms]? quartal",),
    next_month=(r"nächste[nms]? monat",),
    next_week=(r"nächste woche",),
    next_year=(r"nächste[sn]? jahr|kommende[sn]? jahr",),
    autumn=(r"\bherbst\b|nach dem sommer|nach den sommerferien",),
    return_before=(r"wieder|zurück|ab dem|ab",),
    until=(r"bis( einschließlich| zum| am)?",),
    tomorrow=(r"morgen",),
    quarters=(
        r"erste[nms]? quartal|1\. quartal",
        r"zweite[nms]? quartal|2\. quartal",
        r"dritte[nms]? quartal|3\. quartal",
        r"vierte[nms]? quartal|4\. quartal",
    ),
    next_fiscal_year=(r"nächste[nms]? geschäftsjahr|kommende[nms]? geschäftsjahr",),
)
