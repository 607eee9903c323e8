"""The fixed sets of values the core accepts and the edges offer as choices: languages, search modes,
audiences, reply channels, report sections and the levels of `kb check` findings.

Kept free of heavy imports so the CLI builds its options from these while `kb --help` stays instant; the
modules that act on the values import them from here, so a choice is written once.
"""

# Bokmål and English: each has its analyzer, reply frames, UI strings and golden questions.
LANGUAGES = ("nb", "en")
# Keywords and meaning fused, or one side alone.
MODES = ("hybrid", "dense", "lexical")
# Who may read an article: internal ones are never sent to a customer.
AUDIENCES = ("customer", "internal")
CHANNELS = ("chat", "email", "phone", "social")
# The parts of the editors' report, and of the contact reasons report for team leaders.
EDITOR_SECTIONS = ("gaps", "articles", "stale", "never_shown", "days", "categories")
REASON_SECTIONS = ("reasons", "trends", "products", "comments")
# How bad a `kb check` finding (or a problem in `_routes.yaml`) is; an error fails the check.
ERROR, WARNING, INFO = "error", "warning", "info"
