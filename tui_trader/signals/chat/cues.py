"""The phrase lexicons the kind of a message is read from, one per kind of cue.

Every pattern reads the lower-cased message with the symbol blanked (see kinds.classify for
how they combine and which wins). A cue names what the provider *does* or *reports*:

- cancel: withdraw a pending order ("cancel", "pull the bid", "nvm on the entry");
- exit: close or reduce ("closing", "stopped out", "took the L", "STC"); verbs that are also
  market words ("cut", "dump", "reduce") count only with an agent or an object;
- update: move a stop or target ("SL to 65.2k", "stops at entry", "BE now");
- status: the state of an earlier order or trade ("filled", "triggered", "running",
  "still holding", "+3R and counting"): information, never a new order;
- side words with their mood: asked, negated, modal, about a position ("the ETH long").
"""

from __future__ import annotations

import re

# -- options and other things we cannot trade ------------------------------------------------

OPTIONS_RES = (
    re.compile(r"(?:\$[a-z][\w.]*|\b[A-Z]{1,5})\s+(?:\$?\d+(?:\.\d+)?\s*)?(?:calls|puts)\b"),
    re.compile(
        r"\b(?:buy|buying|bought|sell|selling|sold|grab|grabbing|load|loading|adding|long|short)"
        r"\s+(?:\S+\s+){0,4}(?:calls|puts)\b",
        re.I,
    ),
    re.compile(r"\b(?:calls|puts)\s+(?:on|for|at|@|\$?\d)", re.I),
    re.compile(r"(?<![\w.])\d+(?:\.\d+)?[cp]\b", re.I),  # 560c, 190C, 450p (a strike)
    re.compile(r"\b(?:bto|sto|stc|btc)\b[^\n]{0,30}?(?<![\d/])\d{1,2}/\d{1,2}(?:/\d{2,4})?(?![\d/])", re.I),
    re.compile(
        r"\b(?:call|put|credit|debit|calendar|vertical)\s+spreads?\b|\biron\s+(?:condors?|fl(?:y|ies)"
        r"|butterfl(?:y|ies))\b|\bbutterfl(?:y|ies)\b|\bstraddles?\b|\bstrangles?\b|\b\d*dte\b|\bstrike\b"
        r"|\bexpir(?:y|ation|es|ing)\b|\bleaps\b|\boptions?\s+(?:play|trade|flow|chain|contract)s?\b"
        r"|\bcontracts?\b|\bcsps?\b|\bcash[\s-]secured\b|\bweeklies\b"
        r"|\bsell(?:ing)?[\s.,!-]+premium\b|\bpremium\s+sell(?:ing|er)?\b",
        re.I,
    ),
)

# "150 call", "AAPL weekly 190 puts": a strike, but only on a named underlying; without one a
# count of calls is the channel counting its trade calls ("Monthly stats: 41 calls, 68% win rate")
OPTIONS_COUNT_RE = re.compile(r"(?<![\w.])\d+(?:\.\d+)?\s+(?:call|put)s?\b(?!\s+(?:it|this|that))", re.I)

# -- cancel ----------------------------------------------------------------------------------

# "the buy stop", "sell-stop": an order named by its type is a pending order (a bare "stop" is the
# protective stop, never this)
_PENDING = (
    r"(?:pending|unfilled|orders?|entry|entries|limits?|bids?|asks?|setup|idea|call|signal|trade"
    r"|(?:buy|sell)[\s-]*stops?)"
)
CANCEL_RE = re.compile(
    r"\bcancel(?:l?ed|l?ing|s)?\b(?!\s+(?:if|unless|when|on\s+a|in\s+case|should))"
    r"|\b(?:scrap|scrapped|scrapping|void|voided|delete|deleted|deleting|remove|removed|removing|pull"
    r"|pulled|pulling|withdraw|withdrawn|kill|killed|scratch|scratched|scrub|scrubbed|drop|dropped"
    rf"|dropping|forget|abort|aborted|abandon|abandoned)\s+(?:\S+\s+){{0,4}}?{_PENDING}\b"
    r"|\b(?:ignore|disregard)\s+(?:\S+\s+){0,4}?(?:call|signal|setup|trade|entry|post|message)\b"
    r"|\b(?:setup|idea|signal|call|trade|entry|order)\s+(?:is\s+|now\s+|has\s+)?"
    r"(?:invalid|invalidated|off|void|voided|dead|scrapped|broke|broken|failed)\b"
    r"|\bno\s+longer\s+valid\b|\bnot\s+valid\s+anymore\b"
    # the passive: "XRP order removed", "limit got pulled"
    r"|\b(?:orders?|entry|entries|limits?|bids?|asks?)\s+(?:is\s+|was\s+|got\s+|has\s+been\s+|now\s+)?"
    r"(?:removed|deleted|pulled|killed|scrapped|withdrawn|dropped|scratched|void|voided|invalid|invalidated"
    r"|dead|cancel{1,2}ed)\b"
    # "close pending orders", "exit the unfilled limit": closing what has not filled is a cancel
    r"|\b(?:close|closing|exit|clear|clearing)\s+(?:\S+\s+){0,2}?(?:pending|unfilled|resting)\b"
    r"|\b(?:nvm|never\s*mind|scratch\s+that)\b\s+(?:on\s+|about\s+)?(?:\S+\s+){0,3}?"
    r"(?:entry|entries|order|limit|call|setup|trade|idea|signal|long|short)\b"
    r"|\bskip\s+(?:it|this|that|this\s+one|the\s+(?:\S+\s+){0,2}?" + _PENDING + r")\b(?!\s+if)"
    r"|\b(?:don'?t|do\s+not)\s+(?:take|enter|open|place|chase|get\s+in(?:to)?)\b[^\n?]{0,40}"
    r"\b(?:anymore|any\s+more|no\s+more)\b"
    r"|\bno\s+longer\s+(?:taking|entering|valid|active)\b",
    re.I,
)
# "deleting it", "pulled it" cancel only in a message about a pending order.
CANCEL_PRONOUN_RE = re.compile(
    r"\b(?:delete|deleted|deleting|remove|removed|removing|pull|pulled|pulling|kill|killed|scrap"
    r"|scrapped|drop|dropped|dropping|scratch|scratched)\s+(?:it|this|that|them)\b"
    # "Order on AVAX is stale, removing": the verb ends the message
    r"|\b(?:deleting|removing|pulling|scrapping|dropping|killing|withdrawing)\s*(?:$|\n)",
    re.I,
)
PENDING_RE = re.compile(
    r"\b(?:entry|entries|order|orders|limit|limits|bid|bids|setup|triggered|filled|fill|filling)\b", re.I
)

# -- exit ------------------------------------------------------------------------------------

# "exit 3200" names a price (a level, not the act); "exited +9%" reports a result
_NUMBER_AHEAD = r"(?!\s*[:=@]?\s*\$?\.?\d)"
EXIT_RE = re.compile(
    r"\b(?:close|closes|closed|closing)\b(?!\s+(?:above|below|under|over|of\s+the|candle))"
    rf"|\b(?:exit|exits|exited|exiting)\b(?:{_NUMBER_AHEAD}|(?=\s*\d\s*/\s*\d\b))"  # "exit 1/3", not "exit 3200"
    r"|\b(?:take|taking|took|tp'?d)\s+(?:some\s+|partial\s+|more\s+|the\s+|my\s+|half\s+|a\s+bit\s+"
    r"|\d\s*/\s*\d\s+|\d+(?:\.\d+)?\s*%\s*(?:of\s+)?)?(?:profits?|partials?|gains|off|half|the\s+rest)\b"
    + _NUMBER_AHEAD
    # "take profit moved to 0.140" is a level being changed (an update), not taking profit
    + r"(?!\s+(?:\d\s+)?(?:moved|raised|lowered|changed|updated|adjusted|shifted|set|revised|is|to|at|@)\b"
    + r"|\s+(?:\d\s+)?now\s*[:=]?\s*(?:at\s+)?\$?\.?\d)"  # "take profit now" acts; "take profit now 1.0850" moves it
    + r"|\b(?:take|taking|took|book|booked|booking|secure|secured|securing|bank|banked|banking|exit"
    r"|exiting|exited|sell|selling|close|closing|trim|trimming|scale\s+out|scaling\s+out)\s+\d+(?:\.\d+)?\s*%"
    r"|\b(?:secur(?:e|ed|es|ing)|book(?:ed|ing|s)?|bank(?:ed|ing|s)?)\s+"
    r"(?:some\s+|the\s+|more\s+|partial\s+|half\s+|\d+(?:\.\d+)?\s*%\s*)?"
    r"(?:profits?|gains|partials?|half|the\s+rest)\b"
    # "3 stopped out" counts trades (a tally), it does not close one
    r"|(?<!\d\s)\bstopped(?:\s+out)?\b(?!\s+(?:at|by|near|right|just|exactly|there|here|trading))"
    r"|\bstopped\s+(?:out\s+)?at\s+(?:be|b/e|breakeven|break\s*even|entry|cost|\$?\d)"
    r"|\b(?:sl|stop|stop\s*loss)\s+(?:was\s+|got\s+)?(?:hit|taken)\b"
    r"|\bhit\s+(?:my|the|our)\s+(?:sl|stop)\b"
    r"|\b(?:fully|all|i'?m|we'?re|im|getting|got|get)\s+out\b(?!\s+for\s+(?:the\s+(?:day|night|weekend|week)|today"
    r"|tonight|lunch|a\s+(?:bit|while)))"
    # "out of SOL", not "broke out of the range" (price action)
    r"|\b(?=out\s)(?<!broke\s)(?<!breaks\s)(?<!break\s)(?<!broken\s)(?<!breaking\s)(?<!popped\s)(?<!bounced\s)"
    r"(?<!jumped\s)(?<!came\s)(?<!coming\s)out\s+of\b(?!\s+(?:range|nowhere|the\s+blue|control|stock|here\s+soon"
    r"|the\s+(?:range|channel|wedge|triangle|pattern|box|trend)))"
    r"|(?:^|:)\s*(?:market\s+)?out\b(?!\s+(?:of|for|there)\b)"  # "ETH: out, thesis invalidated"; "Market out BTC"
    r"|\b(?:done|finished)\s+out\b"  # "SOL short: done, out"
    # "XAUUSD short out": the position named, then out, at the end of what it says
    r"|\b(?:long|short)\s+out\b(?=\s*(?:[.!,;:\n]|\Z))"
    r"|\b(?:trim|trims|trimmed|trimming|flatten|flattened|flattening)\b"
    r"|\bscal(?:e|ed|ing)\s+out\b|\b(?:go|going|went|now|stay|staying|i'?m|im|we'?re|am|are)\s+flat\b"
    r"|\bflat\s+(?:on|now)\b|\b(?:go|going|went|back)\s+to\s+cash\b|\bcash(?:ing)?\s+out\b"
    r"|\boff\s+the\s+table\b|\btak(?:e|ing)\s+(?:it|this|that|them)\s+off\b"
    r"|\b(?:half|\d+(?:\.\d+)?\s*%|a\s+third|a\s+quarter)\s+off\b|(?<![\w.])\d\s*/\s*\d\s+off\b"
    r"|\bout\s+(?:at|@|here|now|with|for(?!\s+(?:the\s+(?:day|night|weekend|week)|today|tonight|lunch|a\s+(?:bit"
    r"|while))))\b"  # "out for +3R", not "I'm out for the day"
    r"|\bsold\b|\bsell(?:ing)?\s+(?:all|everything|it\s+all|half|some|the\s+rest|remaining|my|our"
    r"|\d+(?:\.\d+)?\s*%)"
    r"|\bcover(?:ed|ing|s)?\b"
    r"|\bstc\b|\bsold\s+to\s+close\b|\bsell\s+to\s+close\b"  # stock alerts: sell to close
    r"|\btook\s+(?:the|an?|my)\s+(?:l|loss|small\s+loss)\b",
    re.I,
)
# Verbs that are also what a market does ("Fed cuts rates", "BTC dumping", "reduce risk"):
# an exit only with an agent (I, we, let's; or the sentence starts with the verb) or an
# object that is a position (my, the, half, it, losses...).
AGENT_EXIT_RE = re.compile(
    r"\b(?:(cut|dump|reduce|unload|kill|scratch|liquidate)|cuts|cutting|dumps|dumped|dumping|reduces|reduced|reducing"
    r"|unloaded|unloading|killing|killed|scratching|scratched|liquidating|liquidated)\b",
    re.I,
)
AGENT_BEFORE_RE = re.compile(
    r"\b(?:i|we|i'?m|im|we'?re|i'?ve|we'?ve|let'?s|lets|just|also|and\s+(?:i|we)|gonna|will)\s+$"
)
POSITION_AFTER_RE = re.compile(
    r"\s*(?:my|our|your|the|this|that|it|them|half|some|all|everything|losses|loss|the\s+rest"
    r"|\d+(?:\.\d+)?\s*%|a\s+third|a\s+quarter|position|exposure|bags?|here|now|by)\b"
    r"(?!\s+(?:risk|leverage|size|sizing)\b)"
)
NOT_POSITION_RE = re.compile(r"\s*(?:your\s+|the\s+|my\s+)?(?:risk|leverage|size|sizing|sizes|screen\s+time)\b")
SENTENCE_START_RE = re.compile(r"(?:^|[\n:;,?-])[\s]*$")
# "lock in profits" can mean a tighter stop: an exit only when no stop moves with it.
SOFT_EXIT_RE = re.compile(
    r"\b(?:lock(?:ed|ing|s)?\s+in|protect(?:ed|ing)?)\s+(?:some\s+|the\s+|more\s+|partial\s+)?"
    r"(?:profits?|gains)\b",
    re.I,
)

# -- update ----------------------------------------------------------------------------------

STOP_WORD = r"(?:sl|stop|stops|stop\s*loss|stoploss|stop-loss)"
TARGET_WORD = r"(?:tp|tps|tp\d|target|targets|take\s*profit)"
UPDATE_RE = re.compile(
    r"\b(?:move|moving|moved|raise|raising|raised|lower|lowering|lowered|trail|trailing|trailed"
    r"|adjust|adjusting|adjusted|tighten|tightening|tightened|bump|bumping|bumped|update|updated"
    r"|change|changing|changed|shift|shifting|push|pushing|pushed|set|setting|put|putting|place"
    rf"|placing)\b\s+(?:\S+\s+){{0,3}}?{STOP_WORD}|\b(?:move|moving|moved|raise|raising|raised|lower"
    r"|lowering|lowered|adjust|adjusting|adjusted|extend|extending|update|updated|change|changing"
    rf"|changed|set|setting)\b\s+(?:\S+\s+){{0,3}}?{TARGET_WORD}"
    rf"|\bnew\s+(?:{STOP_WORD}|{TARGET_WORD})\b"
    # "SL 3,350 now", "SL 0.95 on JUP now"
    rf"|\b(?:{STOP_WORD}|{TARGET_WORD})\s+(?:at\s+)?\$?\.?\d[\d,.]*k?(?:\s+(?:on|for)\b[^\n\d]{{0,12}}?)?\s+now\b"
    rf"|\b(?:{STOP_WORD}|{TARGET_WORD})\s+(?:(?:on|for|of)\s+(?:the\s+|my\s+|our\s+|your\s+)?)?"
    r"(?:now(?!\s*(?:,|$|\n|\+))|moved|updated|changed|raised|lowered|trailed|adjusted|tightened|shifted|bumped|pushed"
    r"|extended|revised|reduced|->|to)\b"
    r"|\bupdate\b",
    re.I,
)
BREAKEVEN_RE = re.compile(
    # "stops on all longs to breakeven": which positions, between the stop and where it goes
    rf"\b{STOP_WORD}\s+(?:(?:moved|move|now|to|at|on|@|->|=|:|is|back|for|of|all|my|our|the|your|open|longs?"
    r"|shorts?|positions?|trades?|runners?|everything|remaining|rest)\s+)*"
    r"(?:be|b/e|b\.e\.?|breakeven|break-even|break\s+even|entry|entries|cost|(?:our|my|the)\s+entry"
    r"|entry\s+price)\b(?:\s*\(\s*\$?\d[\d,.]*k?\s*\))?"
    r"|\brisk[\s-]?free\b"
    r"|\b(?:move|moving|moved)\s+(?:it|them|everything|all)?\s*to\s+(?:be|breakeven|break\s+even)\b"
    r"|\bbreak[\s-]?even\s+(?:stops?|sl)\b|\b(?:be|breakeven)\s+(?:stops?|sl)\b"
    # "BE now on ETH", "breakeven on all runners": the word alone, as a command
    r"|(?:^|\n)\s*(?:be|b/e|breakeven|break[\s-]even)\s+(?:now|on|for)\b",
    re.I,
)
# A management plan inside an entry post: "move SL to BE after TP1", "will close half".
PLAN_AFTER_RE = re.compile(
    r"^\W{0,3}(?:\S+\s+){0,3}?(?:after|once|when|if|at)\s+(?:the\s+)?(?:first\s+|1st\s+|2nd\s+)?"
    r"(?:tp|target|tp\d|\d+(?:\.\d+)?\s*r\b|profit)",
    re.I,
)
PLAN_BEFORE_RE = re.compile(
    r"\b(?:will|gonna|going\s+to|plan\s+to|then|later|i'?ll|we'?ll)\s*(?:\S+\s*)?\Z"
    # "TP1 take 50%", "at target 2: close the rest": conditioned on a target, on the same line
    r"|\b(?:at|@|on|after)?[ \t]*(?:tp\d|target[ \t]?\d|\d+(?:\.\d+)?[ \t]?r)[ \t]*[:,=-]?[ \t]*\Z",
    re.I,
)
# A verb in the past tense reports what was done: never a plan ("closed 50% at TP1").
# A condition on a target or profit covers the rest of its sentence: "at TP1 close 50% and
# move your stop to entry" is one plan.
CONDITION_RE = re.compile(
    r"\b(?:at|after|once|when|if|on)\s{1,2}(?:the\s+)?(?:first\s+|1st\s+|2nd\s+|second\s+)?(?:tp\s?\d?|target"
    r"\s?\d?|\d+(?:\.\d+)?\s?r)\b|\b(?:once|when|if)\s+(?:we'?re\s+|it'?s\s+)?(?:in\s+)?profit\b",
    re.I,
)
# "markets closed Monday", "the exchange closes early": the market closes, not a position.
MARKET_SUBJECT_RE = re.compile(
    r"\b(?:markets?|exchanges?|session|nyse|nasdaq|cme|banks?|wall\s+street)\s+(?:is\s+|are\s+|was\s+|were\s+"
    r"|will\s+be\s+|'?s\s+)?\Z"
)
PAST_VERB_RE = re.compile(r"^(?:\w+ed|took|sold|cut|got|went|tp'?d|hit)\b", re.I)
TP_HIT_RE = re.compile(
    r"\b(?:tp|target|take\s*profit)\s*\d?\s*(?:was\s+|got\s+|has\s+been\s+)?"
    r"(?:hit|done|reached|smashed|filled|achieved|secured|tagged|touched)\b"
    r"|\bhit\s+(?:tp|target)\s*\d?\b",
    re.I,
)

# -- status: what already happened to an earlier order or trade -------------------------------

STATUS_RE = re.compile(
    r"\b(?:filled|fills?\s+(?:confirmed|done)|got\s+(?:a\s+)?fill)\b"
    r"|\b(?:triggered|activated)\b"
    r"|\bentry\s+(?:was\s+|got\s+)?(?:hit|reached|tagged|touched|taken|done)\b"
    r"|\bstill\s+(?:holding|in|open|running|riding|long|short|in\s+profit)\b"
    r"|\b(?:i'?m|we'?re|im|am|are)\s+(?:still\s+)?(?:holding|riding)\b"
    r"|\b(?:long|longs|short|shorts|trade|position|it|this|that|rest|runner|runners)\s+"
    r"(?:is\s+|are\s+|still\s+)?(?:running|printing|cooking|ripping|in\s+profit|in\s+the\s+green)\b"
    r"|\brunning\s+(?:nicely|well|smoothly|hot|in\s+profit)\b|\bin\s+profit\b|\bin\s+the\s+green\b"
    r"|\band\s+counting\b|\bsince\s+(?:our|my|the)\s+(?:call|entry|alert|post)\b",
    re.I,
)
# A result figure ("+12%", "+3R", "+35 pips", "+$4,200"): with a side word and no stop, the
# message reports how a trade went, it does not call one.
RESULT_RE = re.compile(
    r"(?<![\w.])\+\s?\d+(?:\.\d+)?\s?(?:%|r\b|pips?\b)|(?<![\w.])[+-]\$\s?\d"
    r"|(?<![\w.])-\d+(?:\.\d+)?\s?r\b",
    re.I,
)
# A question about a call ("is this still valid?", "too late to enter?"): the message asks
# about the call it repeats, it does not make it.
ASKS_ABOUT_CALL_RE = re.compile(
    r"\b(?:is|are)\s+(?:this|it|that|these|those|the\s+\S+\s+(?:call|entry|setup|trade))\s+(?:\S+\s+)?"
    r"(?:still\s+)?(?:valid|good|ok|okay|active|legit|safe|worth|late|live|open|on)\b[^?\n]*\?"
    r"|\btoo\s+late\s+(?:to\s+(?:enter|join|get\s+in|buy|long|short))?[^?\n]*\?"
    r"|\b(?:still\s+)?(?:valid|worth\s+(?:it|entering)|enterable)\s*\?",
    re.I,
)
REPOST_RE = re.compile(
    r"\b(?:re-?post(?:ed|ing)?|re-?shar(?:e|ed|ing)|in\s+case\s+you\s+missed|still\s+(?:valid|active))\b",
    re.I,
)

# -- side words and their mood ---------------------------------------------------------------

SIDE_RE = re.compile(
    r"\b(long|longs|longing|longed|buy|buys|buying|short|shorts|shorting|shorted|sell|sells|selling|bullish|bearish|bto"
    r"|sto)\b"
    # "long-term", "long weekend", "short story": not a side
    r"(?![\s-](?:term|weekend|week|time|way|story|day|night|run|haul|while|ago|list|squeeze|interest))",
    re.I,
)
DETERMINER_RE = re.compile(r"\b(?:the|my|our|this|that|your|his|her|their|in|on|those|these)\s*$")
NEGATION_RE = re.compile(r"\b(?:not|no|don'?t|do\s+not|never|avoid|won'?t|wouldn'?t|isn'?t|careful)\s+(?:\S+\s+)?$")
# "going to long", "will short": a plan (a call only when it comes with a stop); "might long",
# "should I buy": a hedge or a question, not an order now.
FUTURE_RE = re.compile(
    r"\b(?:will|going\s+to|gonna|plan(?:ning)?\s+to|want(?:ing)?\s+to|wanna|i'?ll|we'?ll|about\s+to)"
    r"\s+(?:\S+\s+)?$"
)
MODAL_RE = re.compile(
    r"\b(?:would|might|may|could|should|thinking\s+(?:of|about)|considering)\s+(?:\S+\s+)?$"
    r"|\b(?:should|could|would)(?:'?ve|\s+have)\s+$"
)
HEDGE_RE = re.compile(
    r"\b(?:might|may|maybe|perhaps|could|considering|consider|thinking|watching|watch|eyeing"
    r"|waiting|wait\s+for|looking\s+for|looking\s+to|look\s+for|interested|potential|possible"
    r"|possibly|soon|later|tomorrow|would|not\s+in\s+yet|on\s+watch|watchlist"
    r"|if\s+(?:we|it|price|this|that)\s+(?!(?:loses|lose|losing|breaks?|breaking|closes?|reclaims?"
    r"|flips?|drops?|dips?|hits?|goes|taps?)\b)\w+)\b",
    re.I,
)
PAST_RE = re.compile(
    r"\b(?:yesterday|last\s+(?:week|night|time|month)|earlier\s+today|recap|great\s+call"
    r"|nice\s+call|called\s+it|played\s+out|worked\s+out|results?)\b",
    re.I,
)
ALL_RE = re.compile(
    r"\b(?:everywhere|across\s+the\s+board)\b"
    r"|\b(?:all|every|everything)\b(?:\s+(?:my|our|the|open|pending|current|active|running))*"
    r"(?:\s+(?:positions?|trades?|orders?|longs?|shorts?|entries|bags?|setups?|runners?))?",
    re.I,
)
