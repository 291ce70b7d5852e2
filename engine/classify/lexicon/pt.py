"""Portuguese (Brazil and Portugal)."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="pt",
    unsubscribe=(
        r"não (quero|desejo) (mais )?receber|não quero receber mais",
        r"descadastr|descredenci|remov(a|am|er)(-me| me| meu| o meu)|tire(m)?(-me| me| meu)|"
        r"retire(m)?(-me| me| meu)|(da|de) (sua|vossa|vossa|tua) (lista|base)|"
        r"(parem|pare|deixem|deixe) de (me )?(enviar|mandar|escrever|contactar)|"
        r"não (me )?(enviem|envie|mandem|mande|contactem|contacte|escrevam) mais|"
        r"\blgpd\b|\brgpd\b|exclusão dos? (meus )?dados|"
        r"(apag|elimin|exclu)(ar|em|am) (os )?meus dados|"
        r"cancelar (a )?(inscrição|assinatura)",
    ),
    not_interested=(
        r"não (temos|tenho) (orçamento|verba)|nem interesse|sem orçamento",
        r"não (temos|tenho) (interesse|necessidade)|sem interesse|não (nos )?interessa|"
        r"não precisamos|não é para nós|já (temos|usamos|utilizamos|contamos)|"
        r"não se aplica|dispenso|não,? obrigad|(muito )?satisfeitos com|desenvolvemos internamente|"
        r"sistema próprio|não faz sentido",
    ),
    not_now=(
        r"em (janeiro|fevereiro|março|abril|maio|junho|julho|agosto|setembro|outubro|novembro|"
        r"dezembro)|(no )?(próximo|segundo) semestre",
        r"(neste|no) momento não|agora não|não é (um )?bom momento|mais (para a )?frente|"
        r"(daqui|dentro de) (a )?(uns |alguns )?(\d+|dois|duas|três|seis|poucos) (meses|semanas)|"
        r"(volte|voltem|me procura|procure-me|procura-me) (a )?(contactar|falar|de novo|"
        r"novamente)|depois d[eoa] |próximo (trimestre|ano|mês)|ano que vem|"
        r"retom(ar|amos)|voltamos a falar|no meio da|fechamento|não conseguimos avançar|"
        r"me chama depois",
    ),
    interest=(
        r"interess(ad|a-nos|a-me|e)|(me|nos) interessa|pode(m)? (me )?(enviar|mandar)|"
        r"envi(e|em|a)(-me| me)|(marcar|agendar) (uma )?(chamada|reunião|conversa|call)|"
        r"reunião|demonstração|proposta|orçamento|preço|saber mais|conversar|"
        r"quero (entender|saber|conhecer|ver)|como funciona|(tem|tens|teria) agenda|"
        r"(amanhã|segunda|terça|quarta|quinta|sexta)(-feira)? .{0,12}(às|\d+h|tarde|manhã)",
    ),
    wrong_person=(
        r"não é comigo|não cuido dis(so|to)|sou d[oa] (jurídico|financeiro|marketing|rh|ti)\b",
        r"não (sou|é) (a pessoa|o responsável|a responsável)|não (é|e) (a )?minha área|"
        r"não trabalho mais|já não trabalho|deixei a empresa|saí da empresa|"
        r"não faço mais parte|aposentad|reformad[oa]|não sei quem|não cuido disso|"
        r"pessoa errada",
    ),
    referral=(
        r"encaminh|repassei|(?:o|a) responsável",
        r"(fale|falar|converse) com|procure (o|a)|contate|contacte (o|a)|quem (cuida|trata) "
        r"(disso|é)|(é|e) (o|a) responsável|encaminhei|responsável (por|pel)",
    ),
    copying=(r"(coloquei|copiei|incluí|inclui) .{0,40}(em cópia|na conversa|no e-?mail)|em cópia",),
    person_before=(
        r"(?:encaminhei|reencaminhei|passei|repassei)[^.\n]{0,30}? (?:para|ao|à)(?: (?:a|o))?",
        r"fale com|falar com|converse com|procure (?:o|a)|contate|contacte (?:o|a)|"
        r"encaminhei (?:para|ao|à)",
    ),
    person_after=(
        r"que é (?:o|a) responsável|que cuida|que trata",
        r"cuida|trata|é (?:o|a) responsável|é quem|responde por",
    ),
    colleague=(r"colega",),
    scheduling_only=(r"assistente|secretári[oa]",),
    negation=(r"\bnão\b|\bnao\b|\bnem\b|\bnunca\b|\bsem\b",),
    unsubscribe_words=(r"descadastrar|descadastre(-me)?|remover|cancelar inscrição|sair da lista",),
    courtesy=(r"por favor|favor|obrigad[oa]",),
    auto_reply=(
        (0.9, r"mensagem automática|resposta automática|gerad[ao] automaticamente"),
        (0.9, r"(esta )?caixa (postal|de correio) não (é|está) (monitorada|ativa)"),
        (0.8, r"fora do escritório|de férias|ausente|estarei de volta|retorno (no|em) dia"),
        (0.6, r"em caso de urgência|para assuntos urgentes"),
        (0.8, r"recebemos (a )?sua (mensagem|solicitação)|protocolo"),
        (0.6, r"por favor,? não responda"),
    ),
    auto_subject=(r"resposta automática|resposta automatica|ausência temporária",),
    attribution_start=(r"em\b|no dia\b|a\b",),
    attribution_verb=(r"escreveu",),
    quote_banner=(r"mensagem original|mensagem encaminhada",),
    header_from=(r"de",),
    header_other=(r"enviad[ao]|data|para|assunto|cc",),
    signature=(r"enviado do meu .*|enviado a partir d.*",),
    disclaimer=(r"confidencia|destinatário|sigilo",),
    forward_subject=(r"enc|fw",),
    months=(
        r"janeiro",
        r"fevereiro",
        r"março",
        r"abril",
        r"maio",
        r"junho",
        r"julho",
        r"agosto",
        r"setembro",
        r"outubro",
        r"novembro",
        r"dezembro",
    ),
    weekdays=(
        r"segunda-feira",
        r"terça-feira",
        r"quarta-feira",
        r"quinta-feira",
        r"sexta-feira",
        r"sábado",
        r"domingo",
    ),
    number_words=(
        r"um=1",
        r"uma=1",
        r"dois=2",
        r"duas=2",
        r"três=3",
        r"quatro=4",
        r"seis=6",
    ),
    span_before=(r"daqui a|dentro de|em",),
    month_units=(r"meses|mês",),
    week_units=(r"semanas?",),
    year_units=(r"anos?",),
    next_quarter=(r"próximo trimestre",),
    next_month=(r"próximo mês|mês que vem",),
    next_week=(r"próxima semana|semana que vem",),
    next_year=(r"próximo ano|ano que vem",),
    autumn=(r"depois do verão|após o verão|\boutono\b",),
    return_before=(r"regresso|retorno|volto|estarei de volta|de volta|a partir d[eo]",),
    until=(r"até( o dia| dia)?",),
    tomorrow=(r"amanhã",),
    quarters=(
        r"primeiro trimestre|1º trimestre",
        r"segundo trimestre|2º trimestre",
        r"terceiro trimestre|3º trimestre",
        r"quarto trimestre|4º trimestre",
    ),
    next_fiscal_year=(r"próximo (?:ano fiscal|exercício)|proximo (?:ano fiscal|exercicio)",),
)
