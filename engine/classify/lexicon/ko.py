"""Korean. Negation follows the verb here, so positive phrases exclude it themselves."""

from engine.classify.lexicon import Lexicon

LEXICON = Lexicon(
    code="ko",
    spaced=False,
    unsubscribe=(
        r"수신\s?거부|수신\s?거절|구독\s?취소|(메일|연락|이메일)\s?(을|를)?\s?(보내지|하지)\s?마|"
        r"더 이상 (메일|연락|이메일)|(명단|목록|리스트)에서 (빼|삭제|제외)|"
        r"(정보|개인정보|데이터)\s?(도|를|를 모두)?\s?삭제",
    ),
    not_interested=(
        r"괜찮습니다|필요\s?없|관심\s?(이|은)?\s?없|계획(이|은)?\s?없|생각(이|은)?\s?없|"
        r"사용\s?(하고|중)|도입(했|하였)|이미 .{0,20}(있|사용|도입)|됐습니다|사양하|"
        r"맞지 않",
    ),
    not_now=(
        r"다음 (분기|달|해)|내년|나중에|(지나고|끝나면|이후에|후에) (다시|연락)|"
        r"다시 (연락|이야기|얘기)|지금은 .{0,20}(어렵|여유|바쁘)|(개월|주) 후|연휴",
    ),
    interest=(
        r"관심(이)?\s?(있|많)(?!지 않)|자료(를)?\s?(보내|부탁|주시)|미팅|통화|데모|"
        r"(일정|시간)(을)?\s?(잡|맞|정)|견적|소개(를)? (부탁|받고)|궁금",
    ),
    wrong_person=(
        r"담당(자)?(가|는|이)?\s?(아닙|아니)|다른 (분|사람)(께|에게)|"
        r"제 (업무|담당)가 아니|퇴사|퇴직|은퇴|부서가 (다르|아니)|"
        r"누가 담당(하는지|인지) (모르|잘 모르)",
    ),
    referral=(r"담당(자)?(은|는|이)|(에게|께)\s?(연락|문의)|전달(했|드렸)|연락해 보세요",),
    copying=(r"참조(로|에)|cc(로|에)",),
    scheduling_only=(r"비서",),
    negation=(),
    unsubscribe_words=(r"수신\s?거부|수신\s?거절|구독\s?취소",),
    courtesy=(r"부탁드립니다|해 주세요|해주세요|감사합니다|합니다",),
    auto_reply=(
        (0.9, r"자동\s?(응답|회신|발송)|발신\s?전용"),
        (0.8, r"부재|휴가|출장|외근"),
        (0.8, r"접수(되었|번호|했)|영업일 (이내|내)"),
        (0.6, r"급한 (용무|일|건)"),
        (0.8, r"(이 주소|이 메일 주소)는 더 이상"),
    ),
    auto_subject=(r"자동\s?회신|\[자동응답\]|자동\s?응답|부재중",),
    attribution_start=(r"\d{4}년",),
    attribution_verb=(r"작성|님이 작성",),
    quote_banner=(r"원본 메일|원본 메시지|전달된 메시지|original message",),
    header_from=(r"보낸\s?사람|from",),
    header_other=(r"보낸\s?날짜|받는\s?사람|날짜|제목|참조|to|date",),
    signature=(r".*에서 보냄|.*에서 보냈습니다",),
    disclaimer=(r"기밀|비밀|수신자",),
    forward_subject=(r"전달",),
    span_after=(r"\s?후|\s?뒤",),
    month_units=(r"개월|달",),
    week_units=(r"주",),
    next_quarter=(r"다음 분기",),
    next_month=(r"다음 달",),
    next_week=(r"다음 주",),
    next_year=(r"내년",),
    autumn=(r"가을",),
    return_after=(r"에?\s?(?:복귀|출근|돌아옵|돌아올)",),
    until=(r"까지",),
    tomorrow=(r"내일",),
    quarters=(
        r"[1１]\s?분기|[1１일]사분기",
        r"[2２]\s?분기|[2２이]사분기",
        r"[3３]\s?분기|[3３삼]사분기",
        r"[4４]\s?분기|[4４사]사분기",
    ),
    next_fiscal_year=(r"다음 회계\s?연도|내년도",),
    holiday_breaks=(
        r"추석=KR:Chuseok",
        r"설날|설 연휴|구정=KR:Korean New Year",
    ),
    titles=(
        r"책임|선임|수석|팀장|실장|과장|부장|차장|대리|주임|사원|이사|상무|전무|대표|매니저|님|씨",
    ),
    # Family names: the first syllable of nearly every Korean name.
    surnames=(
        "김이박최정강조윤장임한오서신권황안송류전홍고문양손배백허유남심노하곽성차주우구민진"
        "나지엄변채원천방공현함염여추도소석선설마길연위표명기반왕금옥육인맹제모탁국어은편용예",
    ),
)
