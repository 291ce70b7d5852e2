"""Italian."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="it",
    unsubscribe=(
        r"(scrivetemi|contattatemi|mandatemi|inviatemi|scrivermi|contattarmi) più",
        r"cancellatemi|cancellami|cancellarmi|cancellate il mio|rimuovete(mi)?|rimuovermi|"
        r"rimuovi(mi)?|toglietemi|togliermi|(dalla|dalle) (vostra|vostre|sua) (lista|mailing)|"
        r"non (mi )?(scrivete|contattate|inviate|mandate) più|smettete di|disiscri|"
        r"\bgdpr\b|cancellazione dei (miei )?dati|(cancellare|eliminare) i miei dati",
    ),
    not_interested=(
        r"non (siamo|sono) interessat|non (ci )?interessa|nessun interesse|non fa al caso|"
        r"abbiamo già|non ne abbiamo bisogno|non abbiamo bisogno|no,? grazie|"
        r"(sviluppato|fatto) internamente|(molto )?soddisfatti|non fa per noi",
    ),
    not_now=(
        r"ci (risentiamo|sentiamo)|risentirci|a (gennaio|febbraio|marzo|aprile|maggio|giugno|"
        r"luglio|agosto|settembre|ottobre|novembre|dicembre)",
        r"ne riparliamo|risentiamoci|riparliamone|più avanti|non (è|e') il momento|"
        r"al momento no|in questo momento no|(nel|il) (prossimo|terzo|secondo|quarto|primo) "
        r"(trimestre|anno|mese)|dopo (l'estate|le feste|l'estate|il)|fra (due|tre|sei|\d+) "
        r"(mesi|settimane)|tra (due|tre|sei|\d+) (mesi|settimane)|ricontatt",
    ),
    interest=(
        r"interessat|mi interessa|ci interessa|mi (manda|mandi|invia|invii)|inviatemi|"
        r"(fissiamo|fissare|organizziamo) (una )?(call|chiamata|riunione)|una call|"
        r"sentirci|caso studio|casi studio|prezzi|preventivo|demo\b|ne parliamo volentieri",
    ),
    wrong_person=(
        r"non sono (io )?la persona giusta|persona sbagliata|non sono io (il|la) referente",
        r"non (sono|è) (la persona|il referente|io il|la referente)|non (è|e') il mio (campo|"
        r"ambito|settore)|non lavoro più|non sono più in|ho lasciato|in pensione|"
        r"non saprei (indicar|a chi)|non me ne occupo|non mi occupo di",
    ),
    referral=(
        r"giro la (mail|e-?mail)|ho (girato|inoltrato)|inoltro|(è|e') (lui|lei) (il|la) referente|"
        r"referente per",
        r"se ne occupa|si occupa|le scriva|scriva a|contatti|rivolgersi a|rivolgetevi",
    ),
    copying=(r"(metto|ho messo|aggiungo) in copia|in cc",),
    person_before=(
        r"(?:giro|inoltro|ho inoltrato|ho girato|giriamo)[^.\n]{0,25}? (?:a|al|alla)",
        r"se ne occupa|scriva a|contatti|rivolgersi a|in copia",
    ),
    person_after=(
        r"è (?:lui|lei) (?:il|la) referente|è (?:il|la) referente",
        r"si occupa|se ne occupa|è (?:il|la) referente|è responsabile|gestisce",
    ),
    colleague=(r"collega",),
    scheduling_only=(r"assistente|segreteria",),
    negation=(r"\bnon\b|\bné\b|\bmai\b",),
    unsubscribe_words=(r"cancellami|cancellatemi|disiscrivimi|rimuovimi|disiscrizione",),
    courtesy=(r"per favore|grazie|vi prego",),
    auto_reply=(
        (0.9, r"risposta automatica|messaggio automatico|generat[oa] automaticamente"),
        (0.8, r"fuori (sede|ufficio)|in ferie|rientrerò|assente|sarò di ritorno"),
        (0.6, r"per urgenze|in caso di urgenza"),
        (0.8, r"abbiamo ricevuto la sua|numero di (ticket|pratica)"),
        (0.8, r"(casella|indirizzo) non (più )?(attiv|monitorat)"),
    ),
    auto_subject=(r"risposta automatica|fuori sede",),
    attribution_start=(r"il giorno\b|il\b",),
    attribution_verb=(r"ha scritto|scritto",),
    quote_banner=(r"messaggio originale|messaggio inoltrato",),
    header_from=(r"da",),
    header_other=(r"inviato|data|a|oggetto|cc",),
    signature=(r"inviato da .*",),
    disclaimer=(r"riservat|destinatari",),
    forward_subject=(r"i|inoltro",),
    months=(
        r"gennaio",
        r"febbraio",
        r"marzo",
        r"aprile",
        r"maggio",
        r"giugno",
        r"luglio",
        r"agosto",
        r"settembre",
        r"ottobre",
        r"novembre",
        r"dicembre",
    ),
    weekdays=(
        r"lunedì lunedi",
        r"martedì martedi",
        r"mercoledì mercoledi",
        r"giovedì giovedi",
        r"venerdì venerdi",
        r"sabato",
        r"domenica",
    ),
    number_words=(
        r"un=1",
        r"una=1",
        r"due=2",
        r"tre=3",
        r"quattro=4",
        r"sei=6",
    ),
    span_before=(r"tra|fra",),
    month_units=(r"mesi|mese",),
    week_units=(r"settimane?",),
    year_units=(r"anni|anno",),
    next_quarter=(r"prossimo trimestre",),
    next_month=(r"prossimo mese|il mese prossimo",),
    next_week=(r"prossima settimana|settimana prossima",),
    next_year=(r"prossimo anno|l'anno prossimo|anno prossimo",),
    autumn=(r"dopo l'estate|\bautunno\b",),
    return_before=(
        r"rientrerò|rientro|sarò di ritorno|di ritorno|di nuovo in ufficio|a partire da",
    ),
    until=(r"fino al|fino a",),
    tomorrow=(r"domani",),
    quarters=(
        r"primo trimestre|1° trimestre",
        r"secondo trimestre|2° trimestre",
        r"terzo trimestre|3° trimestre",
        r"quarto trimestre|4° trimestre",
    ),
    next_fiscal_year=(r"prossimo (?:anno fiscale|esercizio)",),
)
