"""The commented example catalog that ``tingfeng init`` writes."""

EXAMPLE_CATALOG = '''\
# 听风 tingfeng catalog — brands, stores, products, sources, recipients, alert policy.
# Check it with `tingfeng check-config -c tingfeng.toml`: every problem is listed at once.
# Secrets never go here: name the environment variable that holds them (`*_env` keys).

timezone = "Asia/Shanghai"      # cuts days and weeks, and reads times that carry no zone

# --- brands -----------------------------------------------------------------------
[[brands]]
id = "yidiandian"
name = "一点点"
aliases = ["1点点", "一点点奶茶"]
# phrases in which the name is NOT the brand ("少放一点点冰"):
exclude = ["一点点甜", "一点点冰", "一点点糖", "少一点点", "多一点点"]

# --- regions (area managers are scoped by region) ---------------------------------
[[regions]]
id = "sh"
name = "上海区域"

# --- stores ------------------------------------------------------------------------
[[stores]]
id = "sh-wxc"                    # stable id used everywhere (letters, digits, - _ .)
name = "一点点 上海万象城店"
city = "上海"
district = "闵行区"
address = "吴中路1599号万象城B1"
region = "sh"
aliases = ["万象城店"]           # how customers call it; kept whole by the tokenizer
platform_ids = { dianping = "H8x1Qa", meituan = "1234567" }

# --- products ----------------------------------------------------------------------
[[products]]
id = "boba-milk-tea"
name = "波霸奶茶"
category = "奶茶"
aliases = ["波霸", "珍珠奶茶"]

# --- sources: where mentions come from (see docs/sources.md for every type) --------
[[sources]]
id = "weibo-keyword"
name = "微博 · 品牌关键词"         # shown in the dashboard (default: the platform in Chinese, with the store)
type = "feed"                    # RSS / Atom / JSON Feed, e.g. from RSSHub
platform = "weibo"
schedule = "*/15 * * * *"        # cron, in the catalog time zone
[sources.options]
url = "http://127.0.0.1:1200/weibo/keyword/一点点?format=json"

[[sources]]
id = "dianping-sh-wxc"
type = "html"                    # a review listing described by CSS selectors
platform = "dianping"
store = "sh-wxc"                 # a source bound to a store: every item belongs to it
schedule = "0 * * * *"
[sources.options]
url = "https://reviews.example.com/shop/H8x1Qa/reviews?page=1"
item = "li.review"
next = "a.next@href"
max_pages = 20
time_format = "%Y-%m-%d %H:%M"
[sources.options.fields]
id = "@data-id"
text = "p.content"
author = "span.name"
time = "span.time"
rating = "span.star@class"
link = "a.permalink@href"

# --- recipients: who hears about what ------------------------------------------------
[[recipients]]
name = "市场部"
role = "marketing"               # admin | marketing | hq | area_manager | manager
email = "marketing@example.com"
brands = ["yidiandian"]

[[recipients]]
name = "王店长"
role = "manager"
email = "wang@example.com"
stores = ["sh-wxc"]
escalates_to = ["上海区域经理"]
[recipients.channels.wecom]
url_env = "WECOM_BOT_SH_WXC"     # the bot's webhook URL comes from this environment variable

[[recipients]]
name = "上海区域经理"
role = "area_manager"
email = "sh-area@example.com"
regions = ["sh"]

# --- alert policy (defaults shown in docs; override what you need) -----------------
[alerts]
escalate_after_minutes = 120
quiet_hours = ["22:00", "08:00"]  # non-critical chat pushes wait until morning

# --- promotions marketing has planned: their hours stay out of the stores' norms, and ----
# during one an alert expects its extra volume (the alert says so). List every promotion:
# with a calendar the detector uses lower thresholds, calibrated for promotions it knows of.
[[promotions]]
name = "双十二第二杯半价"
stores = ["sh-wxc"]             # empty or left out: every store
start = 2026-12-12               # a date is the whole local day; a time (2026-12-12T14:00:00) is exact
end = 2026-12-13                 # a date end is included

# --- data protection ------------------------------------------------------------------
[privacy]
see_authors = ["admin"]          # roles shown author nicknames; everyone else sees 张*** (pages and exports)

[retention]
raw_text_days = 365              # `tingfeng db prune` (nightly) blanks older text/author; counts and scores stay

# --- when the processing jobs run ---------------------------------------------------
[schedule]
process = "*/5 * * * *"          # score → rollups → detect → queue notifications
deliver = "* * * * *"            # send the outbox
digest = "0 9 * * mon"           # weekly digest, Monday 09:00
prune = "30 3 * * *"             # retention prune (only with [retention] raw_text_days)

# --- the chain's own words, added to the shipped lists (nlp/data) -------------------
[vocabulary]
urgent = ["碎瓷片"]               # more urgent terms (food safety, escalation)
urgent_exclude = []              # harmless phrases that contain an urgent term
stopwords = ["打卡"]              # never a complaint keyword
[vocabulary.touchpoints]         # product / service / environment / price / delivery / digital
service = ["打招呼"]
'''
