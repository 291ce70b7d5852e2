"""What a human reply means: weighted phrase rules in English, Chinese, German, French, Spanish.

Each label has a table of (weight, pattern). A reply's score for a label is the sum of the weights
of the patterns found in its own words (quotes and disclaimers already removed). Positive phrases
("interested") are ignored when a negation stands right before them ("not interested",
"不感兴趣"). The confidence says how decisive the evidence is: a strong winner far ahead of the
runner-up is near 1, a weak or contested one falls under the review threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from engine.classify.dates import contact_again_date, mask_past_times
from engine.classify.result import ReplyLabel

Rules = tuple[tuple[float, str], ...]

UNSUBSCRIBE: Rules = (
    (
        3.0,
        r"unsubscribe|opt[- ]?out|remove (me|us|my (e-?mail|address|name|details))|"
        # "take me off" and "off your list" count apart, as "remove me" and "from your list" do
        r"take (me|us|my (e-?mail|address|name)) (?=off)|off (your|the) (list|mailing|database)|"
        r"(stop|quit) (e-?mailing|emailing|contacting|messaging|sending|spamming|writing)|"
        r"do not (contact|e-?mail|email|message|write to) (me|us|anyone)|"
        r"don'?t (contact|e-?mail|email|message|write to) (me|us|anyone)|never (contact|email)|"
        r"no (more|further) (e-?mails|emails|messages|contact)|delete (my|our|all) "
        r"(data|personal|details|information|contact)|right to eras|erasure|\bgdpr\b|"
        r"leave me alone|lose my (e-?mail|address|number)|(^|\n)\s*stop\s*[.!]*\s*($|\n)|"
        r"\bspam(ming)?\b|(all|any) (of )?our (staff|employees|people|addresses)|"
        r"company[- ]wide|do not reach out|don'?t reach out|f\W?\W?k off|piss off|"
        # a bare "do not contact." and asking to drop the whole company or mailing list
        r"(do not|don'?t|please never) contact\b|remove (everyone|everybody|all of us|anyone|"
        r"our (whole |entire )?(team|company|domain))|from your (list|database|mailing list|"
        r"distribution list|crm|contact list)\b(?! of)",
    ),
    (
        3.0,
        r"abmelden|austragen|keine (weiteren )?(e-?mails|nachrichten|kontakt)|widerspr(e|u)ch|"
        r"dsgvo|löschen sie (meine|unsere)|nicht mehr (kontaktieren|anschreiben)|"
        r"(entfernen|streichen) sie (mich|uns)|aus (ihrem|dem) verteiler|"
        r"schreiben sie (mir|uns) nicht mehr",
    ),
    (
        3.0,
        r"désabonn|desinscri|désinscri|retirez[- ]moi|ne (plus )?me (plus )?contactez|"
        r"ne plus recevoir|\brgpd\b|supprimer? mes données|ne m'écrivez plus|"
        r"(retirez|supprimez|enlevez) (moi|mon adresse|nous)|de votre (liste|fichier|base)",
    ),
    (
        3.0,
        r"dar(me)? de baja|no me (contacte|escriba|envíe)|no vuelva[ns]? a (escribir|contactar)|"
        r"elimin(e|ar) mis datos|borr(e|ar) mis datos|elimíneme|sáqueme|quíteme|"
        r"de su (lista|base de datos)|no me escriban? más",
    ),
    (
        3.0,
        r"退订|退訂|取消订阅|取消訂閱|不要再(发|發|联系|聯繫|聯絡|打扰|打擾|给我|給我)|别再|別再|"
        r"请勿再|請勿再|勿再|移除|删除我|刪除我|拉黑|骚扰|騷擾|停止(发送|發送)|不要(发|發)|"
        r"(从|從).{0,8}(名单|名單|列表|邮件列表|郵件列表)(中|里|裡)?(删除|刪除|去掉|拿掉)",
    ),
)
NOT_INTERESTED: Rules = (
    (
        2.0,
        r"not interested|no interest|aren'?t interested|are not interested|"
        r"(we|i)'?(ll| will) pass|pass on this|no,? thanks?|no thank you|thanks,? but no|"
        r"(not|n'?t) (a|the|really a) (good |great |right |strong )?fit|\bno fit\b|"
        # This thread, not every message ever: stronger wording is unsubscribe.
        r"(do not|don'?t|no need to) follow up|not for us|not relevant|no need|don'?t need|"
        r"do not need|have no need|not something we|not looking|not in the market|"
        r"(we'?re|we are|i'?m) (all )?(set|good|covered)|happy with (our|what|the)|"
        r"already (have|use|using|work with|built|got)|built (it|our own|this) (in-house|"
        r"ourselves)|in-house|(our|we) own (tool|system|solution)|too small|decline|"
        r"(^|\n)\s*(no|nope|nah|pass)\s*[.!]*\s*($|\n)|doesn'?t (make sense|apply)|"
        r"procurement|not (a )?priority|won'?t be (moving|pursuing|needing)|"
        r"not going to|no plans? to|no budget|evaluated .{0,40}(before|already|last)|"
        r"(isn'?t|not) something (we'?d|we would|i'?d)|rather not|don'?t buy|overkill|"
        r"roi (wasn'?t|isn'?t) there|not worth|(probably|likely|maybe) not ever|"
        r"consolidating (our )?(vendors|tools|tech stack)|not adding (any )?(new )?(vendors|tools)",
    ),
    (
        2.0,
        r"kein (interesse|bedarf)|nicht interessiert|danke,? nein|haben bereits|"
        r"pas intéress|ne sommes pas intéress|pas besoin|pas pour nous|non merci|"
        r"avons déjà|ne nous intéresse pas|ça ne m'intéresse pas|"
        r"no (nos )?interesa|no estamos interesad|no necesitamos|no,? gracias|"
        r"ya tenemos",
    ),
    (
        2.0,
        r"不需要|没有需求|沒有需求|暂无需求|暫無需求|没需求|沒需求|不感兴趣|不感興趣|没兴趣|"
        r"沒興趣|意义不大|意義不大|不浪费|不浪費|不用了|不考虑|不考慮|已经有|已經有|已有|自己的系统|自己的系統|自研|规模太小|"
        r"規模太小|太小|用不上|不合适|不合適|谢谢，不|謝謝，不|暂不需要|暫不需要|"
        r"用不(到|着|著)|规模(较|比较|很|不大)?小|規模(較|比較|很|不大)?小",
    ),
)
NOT_NOW: Rules = (
    (
        2.0,
        r"not (right )?now|not at (the|this) (moment|time|point)|(circle|reach|check|touch|"
        r"come|get) back|reconnect|revisit|follow up (in|next|after|later|again|around)|"
        r"try (me|us|again) (in|next|after|later|around)|later (this|in the|next)|"
        r"next (quarter|year|month|fiscal)|budget (freeze|frozen|cycle|is (locked|set|spent|"
        r"allocated))|(bad|poor|tough|awkward|wrong) timing|timing (is|'s) (not|bad|off|wrong|"
        r"tough|tricky)|timing (isn'?t|is not) (right|great|good|ideal)|in the middle of|"
        r"ping me|reach out (again )?(in|after|next|"
        r"around|once)|locked in|under contract|contract (with|runs|renew|until|ends)|"
        r"signed (a|with)|renewed|\bq[1-4]\b|too (busy|early)|maybe later|down the (road|line)|"
        r"after (the|our|we|this)|until (the|we|our|after)|once (we|the|our)|"
        r"(in|after|give (me|us)) (a |another )?(a|\d+|two|three|six|few|couple of) (more )?"
        r"(months?|weeks?|year)|"
        r"mid-?(jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)|fiscal year|"
        r"(in|until|after|around|early|by) (january|february|march|april|june|july|august|"
        r"september|october|november|december)|holidays|this time next year",
    ),
    (
        2.0,
        r"später|derzeit nicht|momentan nicht|aktuell nicht|im moment nicht|zurzeit nicht|"
        r"melden sie sich|nächste[ns]? (quartal|jahr|monat)|nach den feiertagen|budgetstopp|"
        r"budget ist|im (januar|februar|märz|april|mai|juni|juli|august|september|oktober|"
        r"november|dezember)|pas le bon moment|plus tard|recontact|revenir vers|"
        r"en (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|"
        r"décembre)|pas pour le moment|más adelante|ahora no|en este momento no|"
        r"contácte(me|nos) (en|de nuevo|más)|vuelva a (contactar|escribir)|en (tres|dos|seis) "
        r"meses|dentro de",
    ),
    (
        2.0,
        r"再联系|再聯繫|再聯絡|再说|再說|再谈|再談|以后|以後|暂时不|暫時不|目前不|现在不|現在不|"
        r"下一?[个個]?季度?|明年|预算|預算|冻结|凍結|之后再|之後再|过段时间|過段時間|半年|"
        r"个月后|個月後|春节后|春節後|年后|年後|等.{1,20}(之后|之後|以后|以後|完成|结束|結束)|"
        r"(刚|剛)签|(刚|剛)簽|合同|合約|迁移|遷移",
    ),
)
INTEREST: Rules = (
    (
        2.0,
        r"interested|sounds (good|interesting|great|promising)|tell me more|"
        r"(send|share|forward|e-?mail)( me| over| us)?( some| more| a| the| your)? ?"
        r"(info|information|details|pricing|deck|case stud|brochure|material|video|overview|"
        r"one-?pager|slides)|"
        r"pricing|how much|what does it cost|price|(set up|schedule|book|hop on|jump on|have|"
        r"grab|do) a (quick |short |brief |15[- ]?min(ute)? |30[- ]?min(ute)? )?"
        r"(call|chat|meeting|demo|conversation)|\bdemo\b|let'?s (talk|chat|connect|meet|do)|"
        r"happy to (chat|talk|connect|take|learn|hear|jump|hop|meet)|open to|"
        r"works for me|(does|would) (monday|tuesday|wednesday|thursday|friday|next week|"
        r"tomorrow) work|what (times|time) work|my calendar|calendly|\btrial\b|pilot|"
        r"integrat(e|ion) with|do you (support|integrate|offer|have|work)|how does (it|this)|"
        r"call me|reach me (at|on)|(i'?m|i am) the right person|that'?s me|"
        r"i (do )?(own|handle|run) (this|that|it|sales ops)|could be (useful|helpful)|"
        r"worth a (look|chat|call|conversation)|curious|free (on|at|next|this|tomorrow)|"
        r"available (on|at|next|this|tomorrow)|send (it|them|details) over|sure,|"
        r"(mon|tues|wednes|thurs|fri)day (at|afternoon|morning)|\d{1,2}(:\d\d)? ?(am|pm)|"
        r"\b\d{1,2}:\d\d\b|calendar link|\d+ ?min(ute)?s?\b|go on then|"
        # "share the product brochure", "send over your latest deck": a few words between
        r"(send|share)( \w+){1,3} (brochure|deck|pricing|price list|case stud\w*|one-?pager)|"
        r"(we|i) can (connect|talk|chat|meet|speak)|can we (connect|talk|chat|meet|speak)",
    ),
    (
        2.0,
        r"interessiert|interesse|gerne (mehr|einen|ein)|schicken sie|senden sie|termin|"
        r"preise|intéress|envoyez|tarifs|\bprix\b|démo|volontiers|rendez-vous|un appel|"
        r"me interesa|interesad|envíe|envíeme|envíen|precios|llamada|reunión|"
        r"podemos hablar|platicar",
    ),
    (
        2.0,
        r"感兴趣|感興趣|有兴趣|有興趣|介绍一下|介紹一下|资料|資料|报价|報價|价格|價格|"
        r"案例|演示|试用|試用|约个时间|約個時間|聊聊|聊一下|开个会|開個會|电话|電話|"
        r"部署|是我负责|由我负责|由我負責|是我負責|我这边负责|我這邊負責|方便|见面|見面|"
        r"周[一二三四五]|週[一二三四五]|星期[一二三四五]|下午|上午|多少钱|多少錢|收费|收費",
    ),
)
WRONG_PERSON: Rules = (
    (
        2.5,
        r"not the (right|best|correct|appropriate) (person|contact|guy|one)|wrong (person|"
        r"contact|guy|e-?mail|address|name)|not my (area|department|responsibility|role|"
        r"remit|call|team)|not responsible|don'?t (handle|deal|own|manage|look after)|"
        r"(no longer|not) (with|at|work(ing)? (at|for)|employed)|(i )?left (the company|"
        r"the firm|the business|(?-i:[A-Z])\w+ (in|last|a))|have left|retired|changed (roles?|"
        r"jobs?|positions?)|moved (to|into) a (different|new)|(not sure|don'?t know|no idea) "
        r"who|you have the wrong|contractor|consultant|check (our|the) website|"
        r"not involved|(i'?m|i am) (not|no longer) (the|in|involved|responsible|in charge)|"
        r"don'?t work (in|on|there)|someone else|not me|not (the )?one who|mix-?up|"
        r"not (in charge|the decision)|(isn'?t|is not|not really) (my|our) (area|department|call|"
        r"remit|team|responsibility)|(nothing|anything) to do with|(got|have) the wrong \w+|"
        r"mixed (\w+ )?up|moved (over )?to (the )?\w+ (team|side|department|group)|"
        r"not (in|on) (the )?(sales|marketing|revenue) (side|team)|not in sales|"
        # having left, however the company is named: "I've left", "I left in March"
        r"(i'?ve|i have) (now |since |already )?left ?((?-i:[A-Z])|the (company|firm|business|"
        r"organi[sz]ation)|[.,;!]|$)|(?-i:\bI left (in|last|back in|at the end of|earlier)\b)|"
        r"(i'?m|i am) no longer (part of|working (there|here)|there|here)|"
        r"(i'?ve|i have|i) moved on from (?-i:[A-Z])",
    ),
    (
        2.5,
        r"nicht zuständig|nicht der richtige|nicht die richtige|nicht mehr bei|falsche[nr]? "
        r"ansprechpartner|pas la bonne personne|pas le bon interlocuteur|ne suis pas (le|la) bon|"
        r"ne travaille plus|no soy la persona|ya no trabajo|no trabajo en|persona equivocada|"
        r"no es mi área|no me corresponde|bin nicht (mehr )?(der|die) richtige|"
        r"n'est pas (de )?mon (ressort|domaine)|je ne suis pas (en charge|responsable)|"
        r"no soy (el|la) responsable|no llevo (ese|este) tema|"
        # having left: "habe die Firma im März verlassen", "j'ai quitté", "dejé la empresa"
        r"(habe|hat) (die firma|das unternehmen|[\w-]+)( \w+){0,3} verlassen|"
        r"bin (\w+ ){0,3}ausgeschieden|j'ai quitté|j’ai quitté|ne suis plus (chez|à)|"
        r"dejé (la empresa|la compañía|[\w-]+)|ya no estoy (en|con)",
    ),
    (
        2.5,
        r"不是我负责|不是我負責|不负责|调岗|調崗|换岗|換崗|转岗|轉崗|不在这个岗位|不在這個崗位|不負責|不归我管|不歸我管|不是负责人|不是負責人|找错人|找錯人|"
        r"离职|離職|不在.{0,10}(工作|任职|任職)|不清楚(是)?(谁|誰)|不知道(是)?(谁|誰)|"
        r"不是我|不太清楚|不管这|不管這|不是这方面|不是這方面|负责的是财务|負責的是財務|财务|財務",
    ),
)
REFERRAL: Rules = (
    (
        2.0,
        r"talk to|speak (to|with)|reach out to|get in touch with|contact|(is|would be|'s) "
        r"((probably|likely|definitely|really|actually) )?(the|your) (right|best|correct|better) "
        r"(person|contact|bet)|handles|owns|"
        r"in charge of|responsible for|looping in|loop in|cc'?ing|cc'?d|copied|copying|"
        r"forward(ing|ed)? (this|it|your)|forwarded|adding|introduc|leads (our|the)|"
        r"runs (our|the|sales)|manages|take (this|it) (one|from here)|over to|"
        # "try Anna" refers; "try me in Q3" does not: the name must be capitalised.
        r"you'?ll want|(?-i:[Tt]ry [A-Z])|try (him|her)|(?-i:[Aa]sk [A-Z])|ask (him|her)|"
        r"point(ing)? you to|"
        r"\bcan you take",
    ),
    (
        2.0,
        r"wenden sie sich an|ansprechpartner(in)? (ist|wäre)|zuständig ist|kontaktieren sie|"
        r"contactez|s'adresser à|s'occupe|contacte a|hable con|se encarga|escríbale",
    ),
    (
        2.0,
        r"联系|聯繫|聯絡|负责|負責|找|转发给|轉發給|转给|轉給|已转发|已轉發|抄送|对接|對接|同事|问问|問問",
    ),
)

TABLES: dict[ReplyLabel, Rules] = {
    ReplyLabel.UNSUBSCRIBE: UNSUBSCRIBE,
    ReplyLabel.NOT_INTERESTED: NOT_INTERESTED,
    ReplyLabel.NOT_NOW: NOT_NOW,
    ReplyLabel.INTEREST: INTEREST,
    ReplyLabel.WRONG_PERSON: WRONG_PERSON,
    ReplyLabel.REFERRAL: REFERRAL,
}
_COMPILED = {
    label: tuple((weight, re.compile(pattern, re.IGNORECASE)) for weight, pattern in rules)
    for label, rules in TABLES.items()
}
# A negation right before a positive phrase turns it around ("not interested", "不感兴趣").
_NEGATION = re.compile(
    r"(\bnot|n'?t|\bno|\bnever|\bkein\w*|\bnicht|\bpas|\bni|不|没|沒|无|無)"
    r"\W{0,3}(\w+\W{1,3}){0,1}$",
    re.IGNORECASE,
)
# A request to be written to again at a stated future time weighs as much as one timing phrase.
CONTACT_AGAIN_WEIGHT = 2.0
_NEGATABLE = frozenset({ReplyLabel.INTEREST, ReplyLabel.REFERRAL})
# Someone else being away ("Kim is travelling until May", "Er ist bis März in Elternzeit",
# "她在休产假"), up to the end of its clause. When the reply names who to talk to
# instead, these times describe the absent person, not when to write again.
_SOMEONE_ELSES_ABSENCE = re.compile(
    r"(?:\b(?:he|she|they)|(?:my|our) (?:colleague|co-?worker|boss|manager|director|ceo|cfo|cto|"
    r"coo|cmo|vp|founder)|(?-i:\b(?!(?:I|We|My|Our)\b)[A-Z][a-z]+))\s+"
    r"(?:(?:is|'s|are|will be|won'?t be|isn'?t|has been|remains)\s+(?:\w+\s+){0,2}?"
    r"(?:out|away|off|on (?:\w+ )?leave|on (?:vacation|holiday|sabbatical)|travell?ing|"
    r"unavailable|not available|not around|offline|in hospital|at a conference|back)\b|"
    r"(?:returns|gets back|comes back)\b)"
    r"(?:[^.!?;,\n]|\n(?!\s*\n))*|"
    r"\b(?:er|sie|herr \w+|frau \w+)\s+(?:ist|wird)\b[^.!?;,\n]{0,60}?(?:urlaub|elternzeit|"
    r"mutterschutz|abwesend|nicht im (?:büro|haus)|außer haus|krank|unterwegs|zurück)"
    r"[^.!?;,\n]*|"
    r"\b(?:il|elle)\s+(?:est|sera)\s+(?:\w+\s+){0,2}?(?:absente?|en (?:congé|vacances|"
    r"déplacement|arrêt)|de retour|indisponible)[^.!?;,\n]*|"
    r"(?:\bél|\bella)\s+(?:está|estará|vuelve|regresa)\b[^.!?;,\n]*|"
    r"(?:他|她|[\u4e00-\u9fff]{1,3}(?:经理|經理|总|總|老师|老師|先生|女士))[^。！？；\n]{0,12}?"
    r"(?:休假|出差|请假|請假|产假|產假|不在|外出)[^。！？；\n]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class IntentScores:
    scores: dict[ReplyLabel, float]

    def ranked(self) -> list[tuple[ReplyLabel, float]]:
        return sorted(self.scores.items(), key=lambda item: item[1], reverse=True)


def score_intents(text: str) -> IntentScores:
    """The evidence for each human-reply label in the replier's own words."""
    head = text[:4000]
    return IntentScores({label: score_label(label, head) for label in _COMPILED})


def score_label(label: ReplyLabel, text: str) -> float:
    """The evidence for one label. Past times ("I left in March") are no timing evidence."""
    head = mask_past_times(text[:4000]) if label == ReplyLabel.NOT_NOW else text[:4000]
    total = 0.0
    for weight, pattern in _COMPILED[label]:
        hits = [m for m in pattern.finditer(head) if not _negated(label, head, m.start())]
        total += weight * min(len(hits), 2) * (1.0 if len(hits) <= 1 else 0.75)
    return total


def contact_again_evidence(text: str, sent: date) -> float:
    """Evidence for "not now" from a request to be written to again at a later time.

    "Email me in the fall" or "get in touch again in 2026" hold no phrase of the NOT_NOW table,
    yet say when to come back. Only a time that resolves to a day after the reply's date counts,
    so the date is needed and this sits apart from the date-free tables.
    """
    return CONTACT_AGAIN_WEIGHT if contact_again_date(text, sent) is not None else 0.0


def without_someone_elses_absence(text: str) -> str:
    """The text without clauses about another person being away, for timing evidence."""
    return _SOMEONE_ELSES_ABSENCE.sub(" ", text)


def _negated(label: ReplyLabel, text: str, start: int) -> bool:
    if label not in _NEGATABLE:
        return False
    return bool(_NEGATION.search(text[max(0, start - 14) : start]))


def confidence(best: float, runner_up: float) -> float:
    """How decisive: strong evidence well ahead of the next label is near 1."""
    if best <= 0:
        return 0.0
    strength = min(best / 3.0, 1.0)
    margin = (best - runner_up) / best
    return round(0.35 + 0.4 * strength + 0.25 * margin, 3) if margin > 0 else 0.45 * strength
