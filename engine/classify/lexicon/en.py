"""English."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="en",
    unsubscribe=(
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
        r"distribution list|crm|contact list)\b(?! of)|"
        # where did you get my details, and erase what you hold on me
        r"how did you get (my|this|our) (e-?mail|address|details|contact|data|number)|"
        r"(anything|everything|whatever|all) (else )?you (have|hold|keep|store) (on|about) (me|us)",
    ),
    not_interested=(
        r"(do not|don'?t|doesn'?t|does not) have (a|any) (real )?need|no real need",
        r"(going|gonna|have|need) to pass|'ll have to pass|must pass",
        r"not interested|no interest|aren'?t interested|are not interested|"
        r"(we|i)'?(ll| will) pass|pass on this|no,? thanks?|no thank you|thanks,? but no|"
        r"(not|\w*n'?t) (a|the|really a) (good |great |right |strong )?fit|\bno fit\b|"
        # This thread, not every message ever: stronger wording is unsubscribe.
        r"(do not|don'?t|no need to) follow up|not for us|not relevant|no need|don'?t need|"
        r"do not need|have no need|not something we|not looking|not in the market|"
        r"(we'?re|we are|i'?m) (all )?(set|good|covered)|(happy|satisfied) with (it|them|that|our|"
        r"what|the)|"
        r"already (have|use|using|run|running|work with|built|got|rely on|pay for)|"
        r"(not|\w+n'?t) something (we|i)\b|built (it|our own|this) (in-house|"
        r"ourselves)|in-house|(our|we) own (tool|system|solution|platform|team)|too small|"
        r"decline|doesn'?t (make sense|apply)|"
        r"not (a )?priority|won'?t be (moving|pursuing|needing)|"
        r"not going to|no plans? to|no budget|evaluated .{0,40}(before|already|last)|"
        r"(isn'?t|not) something (we'?d|we would|i'?d)|rather not|don'?t buy|overkill|"
        r"roi (wasn'?t|isn'?t) there|not worth|(probably|likely|maybe) not ever|"
        r"consolidating (our )?(vendors|tools|tech stack)|not adding (any )?(new )?(vendors|tools)|"
        # short refusals: "Pass.", "Hard pass", "Nope"
        r"(^|\n)\s*((hard|i'?ll|gonna|going to) )?(no|nope|nah|pass)\s*[.!,]*\s*(thanks?\.?|"
        r"thank you\.?)?\s*($|\n)|\bhard pass\b|"
        r"(fully |completely |entirely )?outsourced|nothing (for you )?to (sell|optimi[sz]e|offer)|"
        r"no (opening|opportunity|use case|room)|don'?t see (a|the|any) (need|fit|use)|"
        r"the answer is (still )?no|no appetite",
    ),
    not_now=(
        r"not (right )?now|not at (the|this) (moment|time|point)|(circle|reach|check|touch|"
        r"come|get) back|reconnect|revisit|follow up (in|next|after|later|again|around)|"
        r"try (me|us|again) (in|next|after|later|around)|"
        r"later (this (month|quarter|year)|in the (year|quarter)|next)|"
        r"next (quarter|year|month|fiscal)|budget (freeze|frozen|cycle|is (locked|set|spent|"
        r"allocated))|(bad|poor|tough|awkward|wrong) timing|timing (is|'s) (not|bad|off|wrong|"
        r"tough|tricky)|timing (isn'?t|is not) (right|great|good|ideal)|in the middle of|"
        r"ping me|reach out (again )?(in|after|next|"
        r"around|once)|locked in|under contract|contract (with|runs|renew|until|ends)|"
        r"signed (a|with)|\bq[1-4]\b|too (busy|early)|maybe later|down the (road|line)|"
        r"after (the|our|we|this)|until (the|we|our|after)|once (we|the|our)|"
        r"(in|after|give (me|us)) (a |another )?(a|\d+|two|three|six|few|couple of) (more )?"
        r"(months?|weeks?|year)|"
        r"mid-?(jan|feb|mar|apr|jun|jul|aug|sep|oct|nov|dec)|fiscal year|"
        r"(in|until|after|around|early|by) (january|february|march|april|june|july|august|"
        r"september|october|november|december)|holidays|this time next year|"
        r"pick (this|it) up (again |later |after |in |next )|(chinese|lunar) new year",
    ),
    interest=(
        r"interested|sounds (good|interesting|great|promising)|tell me more|learn more|"
        r"(send|share|forward|e-?mail)( me| over| us)?( some| more| a| the| your)? ?"
        r"(info|information|details|pricing|deck|case stud|brochure|material|video|overview|"
        r"one-?pager|slides)|"
        r"pricing|how much|what does it cost|price|(set up|schedule|book|hop on|jump on|have|"
        r"grab|do) a (quick |short |brief |15[- ]?min(ute)? |30[- ]?min(ute)? )?"
        r"(call|chat|meeting|demo|conversation)|\bdemo\b|let'?s (talk|chat|connect|meet|do)|"
        r"happy to (chat|talk|connect|take|learn|hear|jump|hop|meet)|open to|"
        r"works for me|(does|would) (monday|tuesday|wednesday|thursday|friday|next week|"
        r"tomorrow) work|what (times|time) work|my calendar|calendly|\btrial\b|\bpilot\b|"
        r"integrat(e|ion) with|do you (support|integrate|offer|have|work)|how does (it|this)|"
        r"call me|reach me (at|on)|(i'?m|i am) the right person|that'?s me|"
        r"i (do )?(own|handle|run) (this|that|it|sales ops)|could be (useful|helpful)|"
        r"worth a (look|chat|call|conversation)|curious|free (on|at|next|this|tomorrow)|"
        r"available (on|at|next|this|tomorrow)|send (it|them|details) over|sure,|"
        r"(mon|tues|wednes|thurs|fri)day (at|afternoon|morning)|\d{1,2}(:\d\d)? ?(am|pm)|"
        r"\b\d{1,2}:\d\d\b|calendar link|\d+ ?min(ute)?s?\b|go on then|"
        # "share the product brochure", "send over your latest deck": a few words between
        r"(send|share)( \w+){1,3} (brochure|deck|pricing|price list|case stud\w*|one-?pager)|"
        r"(we|i) can (connect|talk|chat|meet|speak)|can we (connect|talk|chat|meet|speak)|"
        r"(a few|some) times|\bslot\b|take a look|happy to (see|hear|look|review)|"
        r"(^|\n)\s*(yes|yep|sure|absolutely|definitely)\b|"
        r"(sent|sending|send) (you )?(an? )?(calendar |meeting )?(invite|invitation)",
    ),
    wrong_person=(
        r"not the (right|best|correct|appropriate) (person|contact|guy|one)|wrong (person|"
        r"contact|guy|e-?mail|address|name)|not my (area|department|responsibility|role|"
        r"remit|call|team|field)|not responsible|don'?t (handle|deal|own|manage|look after)|"
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
        r"(i'?ve|i have|i) moved on from (?-i:[A-Z])|no longer works? here|"
        r"(isn'?t|not) something i have (any )?say|can'?t help|have no say|not my decision",
    ),
    referral=(
        r"(?-i:[Rr]each [A-Z]\w*) (at|on|via)|that('?d| would) be (?-i:[A-Z])|"
        r"(sits|lies|rests) with (him|her|them)|"
        r"your best bet|(he|she) (leads|runs|owns|handles|heads|manages)",
        r"talk to|speak (to|with)|reach out to|get in touch with|contact|(is|would be|'s) "
        r"((probably|likely|definitely|really|actually) )?(the|your) (right|best|correct|better) "
        r"(person|contact|bet)|handles|owns|"
        r"in charge of|responsible for|"
        r"forward(ing|ed)? (this|it|your)|forwarded|introduc|leads (our|the)|"
        r"runs (our|the|sales)|manages|take (this|it) (one|from here)|over to|took over|"
        # "try Anna" refers; "try me in Q3" does not: the name must be capitalised.
        r"you'?ll want|(?-i:[Tt]ry [A-Z])|try (him|her)|(?-i:[Aa]sk [A-Z])|ask (him|her)|"
        r"point(ing)? you to|best way to reach|(he|she|they)'?d be the (one|person)|"
        r"would be the (one|person)|call (him|her|them)|reach (him|her|them)|"
        r"(his|her|their) (number|phone|extension|mobile|cell|direct line)|"
        r"\bcan you take",
    ),
    copying=(r"looping in|loop in|cc'?ing|cc'?d|copied|copying|adding|\bincluded\b",),
    person_before=(
        r"you'?ll want|you want|your best bet is",
        r"talk to|speak (?:to|with)|reach out to|get in touch with|contact|connect with|ask|try|"
        r"email|e-mail|ping|looping in|loop in|cc'?ing|copying|adding|introduce you to|"
        r"forwarding (?:this|it|your note) to|forwarded (?:this|it|your note) to|over to|that'?s",
    ),
    person_after=(
        r"is|would be|'s|handles|owns|runs|leads|manages|heads|is responsible|is in charge|is the|"
        r"took over|has taken over",
    ),
    colleague=(r"colleague|coworker|head of [\w ]+?|vp[\w ]*?|cfo|cto|coo|ceo",),
    scheduling_only=(r"assistant|\bEA\b|schedul|calendar|diary",),
    someone_away=(
        r"(?:\b(?:he|she|they)|(?:my|our) (?:colleague|co-?worker|boss|manager|director|"
        r"ceo|cfo|cto|coo|cmo|vp|founder)|(?-i:\b(?!(?:I|We|My|Our)\b)[A-Z][a-z]+))\s+"
        r"(?:(?:is|'s|are|will be|won'?t be|isn'?t|has been|remains)\s+(?:\w+\s+){0,2}?"
        r"(?:out|away|off|on (?:\w+ )?leave|on (?:vacation|holiday|sabbatical)|travell?ing|"
        r"unavailable|not available|not around|offline|in hospital|at a conference|back)\b|"
        r"(?:returns|gets back|comes back)\b)"
        r"(?:[^.!?;,\n]|\n(?!\s*\n))*",
    ),
    negation=(r"\bnot\b|n'?t\b|\bno\b|\bnever\b",),
    unsubscribe_words=(
        r"unsubscribe|remove( me| us)?( from (your|the|this) (list|mailing list))?|stop|"
        r"opt[- ]?out|"
        r"take me off( (your|the|this) list)?|please remove( me)?|unsubscribe me|"
        r"no more e-?mails?|do not (contact|email)|don'?t (contact|email)( me)?",
    ),
    courtesy=(r"please|thanks?|thank you|pls|asap|now",),
    auto_reply=(
        (0.9, r"out of (the )?office|\booo\b|away from (the )?office|away from my desk"),
        (0.7, r"(limited|no|without) access to (my )?e-?mails?"),
        (
            0.8,
            r"(i am|i'm|i will be|i'll be) (currently )?(away|out|on (annual |parental |"
            r"maternity |paternity |sick )?leave|on vacation|on holiday|travell?ing|"
            r"at a conference|off)(?! the (right|best))",
        ),
        (0.6, r"on (parental|maternity|paternity|annual|medical|sick) leave|on vacation through"),
        (
            0.7,
            r"(will|shall) (be )?(back|return)(ing)? (in the office |to the office )?"
            r"(on|by|next|from)|back in the office|returning (on|to the office)|"
            r"when i return|upon my return|until my return",
        ),
        (
            0.6,
            r"for (anything |any )?urgent (matters|issues|requests|enquiries|inquiries)?|"
            r"if (your message|this|it) is urgent|in urgent cases",
        ),
        (
            0.9,
            r"(this|the) (mailbox|inbox|e-?mail (address|account)) is (no longer |not )"
            r"(being )?(monitored|active|in use)|no longer (being )?monitored|"
            r"will not be (read|monitored|forwarded)|(has been|was|is being) (deactivated|"
            r"discontinued|closed)|(my|our) (new )?(e-?mail )?address (has )?changed|"
            r"(my|the) new (e-?mail )?address is",
        ),
        (
            0.9,
            r"auto(matic|mated)(ally)?[- ]?(generated|reply|response|message|acknowledg)|"
            r"this is an auto|do not reply to this|please do not reply|noreply",
        ),
        (0.8, r"(ticket|case|request|reference) (number|no\.?|id|#)|\[?(ticket|case) ?#"),
        (
            0.8,
            r"we (have )?received your (email|message|request|enquiry|inquiry)|"
            r"your (request|message|email|enquiry|inquiry) has been received|"
            r"a member of our team will|thank you for contacting|"
            r"(support|our) team will (get back|respond|reply)|"
            r"within \d+ (business |working )?(hours|days)",
        ),
    ),
    auto_subject=(
        r"automatic reply|auto(matic)?[- ]?(reply|response)|autoreply|out of (the )?office|"
        r"autosvar|automatisk svar|odpowiedź automatyczna|automatická odpověď",
    ),
    attribution_start=(r"on\b",),
    attribution_verb=(r"wrote|writes",),
    quote_banner=(r"original message|forwarded message|begin forwarded message",),
    header_from=(r"from",),
    header_other=(r"sent|date|to|subject|cc",),
    signature=(
        r"sent from my .*|get outlook for .*|sent from mobile.*|sent from (outlook|yahoo|mail).*",
    ),
    disclaimer=(
        r"confidential|intended (only )?(for the )?(use of the )?(named )?(recipient|addressee)",
    ),
    forward_subject=(r"fwd?",),
    months=(
        r"january jan",
        r"february feb",
        r"march mar",
        r"april apr",
        r"may",
        r"june jun",
        r"july jul",
        r"august aug",
        r"september sep sept",
        r"october oct",
        r"november nov",
        r"december dec",
    ),
    weekdays=(
        r"monday mon",
        r"tuesday tue tues",
        r"wednesday wed",
        r"thursday thu thurs",
        r"friday fri",
        r"saturday sat",
        r"sunday sun",
    ),
    number_words=(
        r"a=1",
        r"an=1",
        r"one=1",
        r"two=2",
        r"three=3",
        r"four=4",
        r"five=5",
        r"six=6",
        r"eight=8",
        r"nine=9",
        r"twelve=12",
        r"couple of=2",
        r"few=3",
    ),
    span_before=(r"in|after|another|for|about|around|wait|give (?:it|me|us)",),
    month_units=(r"months?",),
    week_units=(r"weeks?",),
    year_units=(r"years?",),
    next_quarter=(r"next quarter|following quarter|next fiscal quarter",),
    next_month=(r"next month",),
    next_week=(r"next week",),
    next_year=(r"next year",),
    autumn=(
        r"\b(?:in|this|next|by|until|till|around|early|late|come)\s+(?:the\s+)?fall\b|\bautumn\b|"
        r"after the summer|after summer",
    ),
    return_before=(r"back|return|returning|be in the office",),
    until=(r"until|till|through|thru",),
    tomorrow=(r"tomorrow",),
    quarters=(
        r"(?:first|1st) quarter|\bq1\b",
        r"(?:second|2nd) quarter|\bq2\b",
        r"(?:third|3rd) quarter|\bq3\b",
        r"(?:fourth|4th) quarter|\bq4\b",
    ),
    next_fiscal_year=(r"next fiscal(?: year)?|next fy\b",),
)
