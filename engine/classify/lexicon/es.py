"""Spanish (Spain and Latin America)."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="es",
    unsubscribe=(
        r"dar(me|nos)? de baja|d[aé]d?(me|nos) de baja|no me (contacte|escriba|envíe)|"
        r"no vuelva[ns]? a (escribir|contactar)|elimin(e|ar|en) mis datos|borr(e|ar|en) mis datos|"
        r"elimíneme|sáqueme|quíteme|sácame|quítame|de su (lista|base de datos)|"
        r"de vuestra (lista|base)|no me escriban? más|dejen de (escribir|enviar)",
    ),
    not_interested=(
        r"no es algo que (necesitemos|busquemos|nos interese)|no lo necesitamos",
        r"no (nos )?interesa|no estamos interesad|no necesitamos|no,? gracias|"
        r"ya tenemos|ya contamos con|no nos hace falta|no aplica|(muy )?contentos con",
    ),
    not_now=(
        r"(escríbe|escríba|contácte|llámame|llámeme|búsca)(me|nos) (de nuevo|otra vez|"
        r"más adelante)|en (enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
        r"noviembre|diciembre)|(el )?(próximo|siguiente) (trimestre|semestre|año)",
        r"más adelante|ahora no|en este momento no|(no es|no está) (buen|el) momento|"
        r"contácte(me|nos) (en|de nuevo|más)|vuelva a (contactar|escribir)|en (tres|dos|seis) "
        r"meses|dentro de|cuando (se )?(cierre|termine|acabe|pase)|el próximo (trimestre|año|mes)|"
        r"el año que viene|después de",
    ),
    interest=(
        r"suena (bien|interesante)|disponibilidad|videollamada|(el )?(lunes|martes|miércoles|"
        r"jueves|viernes) (a las|por la|en la)",
        r"me interesa|interesad|envíe|envíeme|envíen|mándame|precios|llamada|reunión|"
        r"podemos hablar|platicar|agendar|más información",
    ),
    wrong_person=(
        r"no soy la persona|ya no trabajo|no trabajo en|persona equivocada|"
        r"no es mi área|no me corresponde|no soy (el|la) responsable|no llevo (ese|este) tema|"
        r"dejé (la empresa|la compañía|[\w-]+)|ya no estoy (en|con)|me jubilé|jubilad[oa]|"
        r"no sé quién",
    ),
    referral=(r"contacte a|hable con|se encarga|escríbale|lo lleva|la lleva",),
    copying=(r"(te |le )?(pongo|copio) en copia|en copia a",),
    person_before=(r"hable con|contacte a|escríbale a|en copia a",),
    person_after=(r"se encarga|lleva|es responsable|es quien",),
    colleague=(r"colega|compañer[oa]",),
    scheduling_only=(r"asistente|secretari[oa]|agenda",),
    someone_away=(r"(?:\bél|\bella)\s+(?:está|estará|vuelve|regresa)\b[^.!?;,\n]*",),
    negation=(r"\bno\b|\bni\b|\bnunca\b",),
    unsubscribe_words=(r"baja|darme de baja|dar de baja|desuscribir(me)?|cancelar suscripción",),
    courtesy=(r"por favor|gracias",),
    auto_reply=(
        (0.7, r"sin acceso al correo"),
        (0.6, r"en caso de urgencia|para asuntos urgentes"),
        (
            0.9,
            r"fuera de la oficina|de vacaciones|estaré de regreso|estare de regreso|"
            r"regresaré|regresare el|vuelvo el|ausente|de permiso",
        ),
        (0.9, r"respuesta automática|mensaje automático|generado automáticamente"),
        (0.8, r"hemos recibido su (mensaje|solicitud|correo)|en un plazo de \d+"),
    ),
    auto_subject=(r"respuesta automática|respuesta automatica",),
    attribution_start=(r"el\b",),
    attribution_verb=(r"escribió",),
    quote_banner=(r"mensaje original|mensaje reenviado",),
    header_from=(r"de",),
    header_other=(r"enviado|fecha|para|asunto|cc",),
    signature=(r"enviado desde mi .*",),
    disclaimer=(r"destinatario|confidencial",),
    forward_subject=(r"rv|reenv",),
    months=(
        r"enero ene",
        r"febrero",
        r"marzo",
        r"abril",
        r"mayo",
        r"junio",
        r"julio",
        r"agosto ago",
        r"septiembre setiembre",
        r"octubre",
        r"noviembre",
        r"diciembre dic",
    ),
    weekdays=(
        r"lunes",
        r"martes",
        r"miércoles miercoles",
        r"jueves",
        r"viernes",
        r"sábado sabado",
        r"domingo",
    ),
    number_words=(
        r"uno=1",
        r"dos=2",
        r"tres=3",
        r"cuatro=4",
        r"seis=6",
        r"ocho=8",
    ),
    span_before=(r"en|dentro de",),
    month_units=(r"meses|mes",),
    week_units=(r"semanas?",),
    year_units=(r"años?",),
    next_quarter=(r"próximo trimestre|proximo trimestre|siguiente trimestre",),
    next_month=(r"el próximo mes|el mes que viene",),
    next_week=(r"la próxima semana",),
    next_year=(r"el próximo año|el proximo año|el año que viene",),
    autumn=(r"\boto[ñn]o\b|después del verano",),
    return_before=(r"a partir del|regreso|regresaré|regresare|vuelvo|de vuelta|reincorporo",),
    until=(r"hasta( el)?",),
    tomorrow=(r"mañana",),
    quarters=(
        r"primer trimestre|1er trimestre",
        r"segundo trimestre|2º trimestre",
        r"tercer trimestre|3er trimestre",
        r"cuarto trimestre|4º trimestre",
    ),
    next_fiscal_year=(r"próximo (?:año fiscal|ejercicio)|proximo (?:año fiscal|ejercicio)",),
)
