"""French (France, Belgium, Switzerland, Quebec)."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="fr",
    unsubscribe=(
        r"désabonn|desabonn|desinscri|désinscri|retirez[- ]moi|ne (plus )?me (plus )?contactez|"
        r"ne plus recevoir|\brgpd\b|supprimer? mes données|ne m'écrivez plus|"
        r"(retirez|supprimez|enlevez|rayez) (moi|mon adresse|nous)|de votre (liste|fichier|base)|"
        r"cessez de m'écrire",
    ),
    not_interested=(
        r"ne nous concerne pas|pas concernés|ne me concerne pas",
        r"pas intéress|ne sommes pas intéress|pas besoin|pas pour nous|non merci|"
        r"avons déjà|ne nous intéresse pas|ça ne m'intéresse pas|déjà équipés?|"
        r"(très |pleinement )?satisfaits? (de|du)|ne correspond pas|en interne",
    ),
    not_now=(
        r"pas le bon moment|plus tard|recontact|revenir vers|reparler|"
        r"en (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
        r"décembre)|pas pour le moment|pas pour l'instant|trimestre prochain|prochain trimestre|"
        r"l'an prochain|l'année prochaine|après (l'été|les fêtes|la rentrée)|dans (deux|trois|"
        r"six|\d+) (semaines|mois)",
    ),
    interest=(
        r"m'envoyer|nous envoyer|pourquoi pas|présentation|une démo|créneau",
        r"intéress|envoyez|tarifs|\bprix\b|démo|volontiers|rendez-vous|un appel|"
        r"en savoir plus|disponible|un échange|documentation",
    ),
    wrong_person=(
        r"pas la bonne personne|pas le bon interlocuteur|ne suis pas (le|la) bon|"
        r"ne travaille plus|n'est pas (de )?mon (ressort|domaine)|"
        r"je ne suis pas (en charge|responsable)|j'ai quitté|j’ai quitté|ne suis plus (chez|à)|"
        r"à la retraite|ne sais pas qui",
    ),
    referral=(
        r"contactez|s'adresser à|adressez-vous à|s'occupe|voir avec|voyez avec|c'est (avec )?lui|"
        r"c'est (avec )?elle|"
        r"qui (pilote|gère|s'occupe|est responsable|est en charge)",
    ),
    copying=(r"(je )?(mets|mis|ajoute) en copie|en cc",),
    person_before=(r"contactez|voir avec|voyez avec|adressez-vous à|s'adresser à|en copie",),
    person_after=(r"s'occupe|gère|pilote|est responsable|est en charge",),
    colleague=(r"collègue",),
    scheduling_only=(r"assistante?|secrétariat",),
    someone_away=(
        r"\b(?:il|elle)\s+(?:est|sera)\s+(?:\w+\s+){0,2}?(?:absente?|en (?:congé|vacances|"
        r"déplacement|arrêt)|de retour|indisponible)[^.!?;,\n]*",
    ),
    negation=(r"\bpas\b|\bni\b|\bne\b|\bn'",),
    unsubscribe_words=(r"désabonner|désinscrire|désabonnement|désinscription|me désabonner",),
    courtesy=(r"s'il vous plaît|svp|merci",),
    auto_reply=(
        (0.7, r"accès limité|sans accès"),
        (0.6, r"en cas d'urgence|pour toute demande urgente"),
        (0.9, r"n'est plus (consultée|active)"),
        (
            0.9,
            r"absent(e)? du bureau|actuellement absent|en congé|en vacances|de retour le|"
            r"serai de retour|hors du bureau",
        ),
        (0.9, r"message automatique|réponse automatique|généré automatiquement"),
        (0.8, r"nous avons (bien )?reçu votre (message|demande)|dans les \d+ (heures|jours)"),
    ),
    auto_subject=(r"réponse automatique|reponse automatique|absent(e)? du bureau",),
    attribution_start=(r"le\b",),
    attribution_verb=(r"a écrit|écrit",),
    quote_banner=(r"message d'origine|message transféré|message original",),
    header_from=(r"de",),
    header_other=(r"envoyé|date|à|objet|cc",),
    signature=(r"envoyé de mon .*|envoyé depuis .*",),
    disclaimer=(r"destinataire|confidentiel",),
    forward_subject=(r"tr",),
    months=(
        r"janvier",
        r"février fevrier",
        r"mars",
        r"avril",
        r"mai",
        r"juin",
        r"juillet",
        r"août aout",
        r"septembre",
        r"octobre",
        r"novembre",
        r"décembre decembre déc",
    ),
    weekdays=(
        r"lundi",
        r"mardi",
        r"mercredi",
        r"jeudi",
        r"vendredi",
        r"samedi",
        r"dimanche",
    ),
    number_words=(
        r"un=1",
        r"une=1",
        r"deux=2",
        r"trois=3",
        r"quatre=4",
        r"six=6",
        r"huit=8",
    ),
    span_before=(r"dans|en",),
    month_units=(r"mois",),
    week_units=(r"semaines?",),
    year_units=(r"ans?",),
    next_quarter=(r"prochain trimestre|trimestre prochain",),
    next_month=(r"le mois prochain",),
    next_week=(r"la semaine prochaine",),
    next_year=(r"l'année prochaine|l’année prochaine|l'an prochain",),
    autumn=(r"\bautomne\b|\brentr[ée]e\b|après l'été",),
    return_before=(r"de retour|retour|à partir du",),
    until=(r"jusqu'au|jusqu’au",),
    tomorrow=(r"demain",),
    quarters=(
        r"premier trimestre|1er trimestre",
        r"(?:deuxième|second|2e|2ème) trimestre",
        r"(?:troisième|3e|3ème) trimestre",
        r"(?:quatrième|4e|4ème) trimestre",
    ),
    next_fiscal_year=(r"prochain exercice|exercice prochain",),
)
