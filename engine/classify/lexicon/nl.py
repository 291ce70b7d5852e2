"""Dutch (Netherlands and Flanders)."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="nl",
    unsubscribe=(
        r"haal (mij|me|ons) [^.!?\n]{0,30}van|van (uw|je|jullie) (mailing)?lijst",
        r"uitschrijven|afmelden|uit (uw|je|jullie) (bestand|lijst|database|mailinglijst)|"
        r"(verwijder|schrap) (mij|me|ons|mijn)|"
        r"mij (niet|nooit) meer (mailen|benaderen|contacteren)|"
        r"geen (e-?mails?|mails?|berichten) meer|\bavg\b|(gegevens|data) (te )?verwijderen|"
        r"stop (met )?mailen",
    ),
    not_interested=(
        r"geen (interesse|behoefte)|niet geïnteresseerd|hebben (al )?(een|onze)|"
        r"(zeer |erg )?tevreden (over|met)|uitbesteed|nee,? dank|niet nodig|past niet bij|"
        r"zelf (ontwikkeld|gebouwd)|niet relevant",
    ),
    not_now=(
        r"in (januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
        r"december)",
        r"over (twee|drie|zes|een paar|\d+) (weken|maanden)|later (dit|in het) jaar|"
        r"volgend (kwartaal|jaar)|volgende maand|na de (zomer|vakantie|jaarafsluiting)|"
        r"(kom|kun je|mag je) .{0,20}terug|nu (even )?niet|op dit moment niet|"
        r"momenteel niet|niet het juiste moment|(neem|nemen) .{0,30}(later|opnieuw) contact",
    ),
    interest=(
        r"klinkt (goed|interessant)|meer (informatie|info)|stuur (maar |gerust )?(wat |"
        r"meer )?(informatie|info)",
        r"geïnteresseerd|interessant|graag (meer|een|een afspraak)|stuur (me|mij|ons)|"
        r"afspraak|(een )?(gesprek|belletje|demo)|plannen|prijzen|offerte",
    ),
    wrong_person=(
        r"niet de (juiste|goede) (persoon|contactpersoon)|werk (hier )?niet meer|"
        r"ga er (zelf )?niet over|niet mijn (afdeling|terrein|vakgebied)|met pensioen|"
        r"ben vertrokken|weet (niet|ook niet) wie",
    ),
    referral=(
        r"verantwoordelijk voor",
        r"moet je bij|kun je (hem|haar) bereiken|ligt bij|doorgestuurd|neem contact op met|"
        r"kun je terecht bij|gaat daarover",
    ),
    copying=(r"in de cc|in cc|zet .{0,30}in (de )?cc",),
    person_before=(
        r"moet je bij|ligt bij|terecht bij|contact op met|neem contact met|mail|bel|"
        r"doorgestuurd naar",
    ),
    person_after=(
        r"(?:zij|hij) is verantwoordelijk|is verantwoordelijk",
        r"gaat (?:daar|hier)over|is verantwoordelijk|regelt|beheert",
    ),
    colleague=(r"collega",),
    scheduling_only=(r"assistent|secretariaat|agenda",),
    negation=(r"\bniet\b|\bgeen\b|\bnooit\b",),
    unsubscribe_words=(r"uitschrijven|afmelden|graag uitschrijven|verwijderen",),
    courtesy=(r"graag|alstublieft|aub|a\.u\.b\.|dank( je| u)?|bedankt",),
    auto_reply=(
        (0.9, r"automatisch (antwoord|bericht|gegenereerd|verzonden)"),
        (0.8, r"afwezig|met vakantie|niet op kantoor|weer aanwezig|ben terug op"),
        (0.6, r"voor dringende (zaken|vragen)|bij spoed"),
        (0.8, r"(we|wij) hebben uw (bericht|vraag) ontvangen|ticketnummer"),
        (0.8, r"(mailbox|adres) wordt niet (meer )?(gelezen|gecontroleerd)"),
    ),
    auto_subject=(r"automatisch antwoord|afwezig",),
    attribution_start=(r"op\b",),
    attribution_verb=(r"schreef",),
    quote_banner=(r"oorspronkelijk bericht|doorgestuurd bericht",),
    header_from=(r"van",),
    header_other=(r"verzonden|datum|aan|onderwerp|cc",),
    signature=(r"verzonden (vanaf|met) .*|verstuurd (vanaf|met) .*",),
    disclaimer=(r"vertrouwelijk|uitsluitend bestemd",),
    forward_subject=(r"fw|doorst",),
    months=(
        r"januari",
        r"februari",
        r"maart",
        r"april",
        r"mei",
        r"juni",
        r"juli",
        r"augustus",
        r"september",
        r"oktober",
        r"november",
        r"december",
    ),
    weekdays=(
        r"maandag",
        r"dinsdag",
        r"woensdag",
        r"donderdag",
        r"vrijdag",
        r"zaterdag",
        r"zondag",
    ),
    number_words=(
        r"een=1",
        r"twee=2",
        r"drie=3",
        r"vier=4",
        r"zes=6",
        r"acht=8",
    ),
    span_before=(r"over",),
    month_units=(r"maanden|maand",),
    week_units=(r"weken|week",),
    year_units=(r"jaar",),
    next_quarter=(r"volgend kwartaal",),
    next_month=(r"volgende maand",),
    next_week=(r"volgende week",),
    next_year=(r"volgend jaar",),
    autumn=(r"na de zomer|na de zomervakantie|\bnajaar\b",),
    return_before=(r"vanaf|weer (op kantoor|aanwezig|bereikbaar)|terug op|ben terug",),
    until=(r"tot en met|t/m|tot",),
    tomorrow=(r"morgen",),
    quarters=(
        r"eerste kwartaal|\bk1\b",
        r"tweede kwartaal|\bk2\b",
        r"derde kwartaal|\bk3\b",
        r"vierde kwartaal|\bk4\b",
    ),
    next_fiscal_year=(r"volgend boekjaar",),
)
