"""Configuration: one TOML file, resolved once at the edge and passed down.

The key names are a contract with users and their scripts. Unknown keys and
wrong types are refused with a message naming the key and the file; relative
paths resolve against the config file's folder; secrets never live here, only
the *names* of the environment variables that hold them.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newsletter.errors import ConfigError

CONFIG_ENV = "NEWSLETTER_CONFIG"
DEFAULT_CONFIG_NAME = "newsletter.toml"

# section -> key -> (type(s), default). A nested dict is a sub-table.
_NUM = (int, float)
SCHEMA: dict[str, Any] = {
    "newsletter": {
        "title": (str, "Hot Papers"),
        "categories": (list, ["cs", "stat.ML"]),
        "site_url": (str, "https://example.org"),
    },
    "arxiv": {
        "api_url": (str, "https://export.arxiv.org/api/query"),
        "rss_url": (str, "https://rss.arxiv.org/rss"),
        "delay_seconds": (_NUM, 3.0),
        "page_size": (int, 500),
        "max_results": (int, 0),
        "retries": (int, 4),
    },
    "sources": {
        "window_hours": (_NUM, 48),
        "x": {
            "enabled": (bool, True),
            "api_url": (str, "https://api.x.com/2"),
            "oembed_url": (str, "https://publish.twitter.com/oembed"),
            "token_env": (str, "X_BEARER_TOKEN"),
            "query": (str, 'url:"arxiv.org" -is:retweet'),
            "endpoint": (str, "auto"),
            "max_posts": (int, 10000),
            "max_requests": (int, 200),
        },
        "huggingface": {
            "enabled": (bool, True),
            "api_url": (str, "https://huggingface.co/api"),
            "max_requests": (int, 10),
        },
        "hackernews": {
            "enabled": (bool, True),
            "api_url": (str, "https://hn.algolia.com/api/v1"),
            "queries": (list, ["arxiv.org", "alphaxiv.org", "huggingface.co/papers"]),
            "max_requests": (int, 20),
        },
        "bluesky": {
            "enabled": (bool, True),
            "api_url": (str, "https://bsky.social/xrpc"),
            "handle_env": (str, "BLUESKY_HANDLE"),
            "password_env": (str, "BLUESKY_APP_PASSWORD"),
            "query": (str, "arxiv.org"),
            "max_requests": (int, 50),
        },
    },
    "ranking": {
        "min_paper_score": (_NUM, 50),
        "min_post_score": (_NUM, 25),
        "max_posts_per_paper": (int, 10),
        "weights": (dict, {"x": 1.0, "huggingface": 1.0, "hackernews": 1.0, "bluesky": 1.0}),
    },
    "output": {
        "posts_dir": (str, "content/posts"),
        "feeds_dir": (str, "feeds"),
        "email_dir": (str, "email"),
        "templates_dir": (str, ""),
    },
    "store": {
        "path": (str, "newsletter.db"),
    },
    "email": {
        "subject": (str, "Hot Papers {date}: {top_title}"),
        "from": (str, "Hot Papers <hotpapers@example.org>"),
        "reply_to": (str, ""),
        "max_papers": (int, 20),
        "abstract_chars": (int, 600),
        "posts_per_paper": (int, 2),
        "template": (str, ""),
        "text_template": (str, ""),
    },
    "delivery": {
        "unsubscribe_url": (str, ""),
        "unsubscribe_mailto": (str, ""),
        "secret_env": (str, "NEWSLETTER_SECRET"),
        "list_id": (str, ""),
        "message_id_domain": (str, ""),
        "outbox": (str, "outbox"),
        "max_attempts": (int, 3),
        "retry_backoff": (_NUM, 30.0),
        "dkim_selector": (str, ""),
        "dkim_domain": (str, ""),
        "dkim_key_file": (str, ""),
    },
    "smtp": {
        "host": (str, "localhost"),
        "port": (int, 587),
        "security": (str, "starttls"),
        "username": (str, ""),
        "password_env": (str, "SMTP_PASSWORD"),
        "ca_file": (str, ""),
        "rate": (_NUM, 0.0),
        "timeout": (_NUM, 30.0),
    },
    "feeds": {
        "issues": (int, 14),
        "title": (str, ""),
        "subtitle": (str, ""),
        "icon": (str, ""),
        "author_name": (str, ""),
        "author_email": (str, ""),
        "base_url": (str, ""),
    },
    "http": {
        "timeout": (_NUM, 30.0),
        "retries": (int, 4),
        "backoff": (_NUM, 2.0),
        "max_wait": (_NUM, 900.0),
        "user_agent": (str, "newsletter-hotpapers/0.1 (+https://example.org; mailto:admin@example.org)"),
    },
}

SOURCE_NAMES = ("x", "huggingface", "hackernews", "bluesky")


@dataclass(frozen=True)
class XConfig:
    enabled: bool
    api_url: str
    oembed_url: str
    token_env: str
    query: str
    endpoint: str
    max_posts: int
    max_requests: int


@dataclass(frozen=True)
class HFConfig:
    enabled: bool
    api_url: str
    max_requests: int


@dataclass(frozen=True)
class Config:
    """The resolved configuration. ``raw`` keeps the validated tables."""

    path: Path | None
    base_dir: Path
    raw: dict[str, Any] = field(repr=False)

    # convenience views -------------------------------------------------
    @property
    def title(self) -> str:
        return self.raw["newsletter"]["title"]

    @property
    def categories(self) -> list[str]:
        return list(self.raw["newsletter"]["categories"])

    @property
    def site_url(self) -> str:
        return self.raw["newsletter"]["site_url"].rstrip("/")

    @property
    def arxiv(self) -> dict[str, Any]:
        return self.raw["arxiv"]

    @property
    def http(self) -> dict[str, Any]:
        return self.raw["http"]

    @property
    def ranking(self) -> dict[str, Any]:
        return self.raw["ranking"]

    @property
    def window_hours(self) -> float:
        return float(self.raw["sources"]["window_hours"])

    @property
    def x(self) -> XConfig:
        return XConfig(**self.raw["sources"]["x"])

    @property
    def huggingface(self) -> HFConfig:
        return HFConfig(**self.raw["sources"]["huggingface"])

    def source(self, name: str) -> dict[str, Any]:
        return self.raw["sources"][name]

    def resolve(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.raw["store"]["path"])

    @property
    def posts_dir(self) -> Path:
        return self.resolve(self.raw["output"]["posts_dir"])

    @property
    def feeds_dir(self) -> Path:
        return self.resolve(self.raw["output"]["feeds_dir"])

    @property
    def email_dir(self) -> Path:
        return self.resolve(self.raw["output"]["email_dir"])

    @property
    def email(self) -> dict[str, Any]:
        return self.raw["email"]

    @property
    def delivery(self) -> dict[str, Any]:
        return self.raw["delivery"]

    @property
    def smtp(self) -> dict[str, Any]:
        return self.raw["smtp"]

    @property
    def feeds(self) -> dict[str, Any]:
        return self.raw["feeds"]

    @property
    def feeds_base_url(self) -> str:
        """Where feeds_dir is published."""
        return (self.raw["feeds"]["base_url"] or f"{self.site_url}/feeds").rstrip("/")

    @property
    def templates_dir(self) -> Path | None:
        v = self.raw["output"]["templates_dir"]
        return self.resolve(v) if v else None


def _type_name(t: Any) -> str:
    if t is _NUM:
        return "a number"
    return {str: "a string", bool: "true or false", int: "an integer", list: "a list", dict: "a table"}[t]


def _is_type(value: Any, t: Any) -> bool:
    if isinstance(value, bool) and t is not bool:
        return False
    return isinstance(value, t)


def _merge(schema: dict[str, Any], data: dict[str, Any], where: str, file: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise ConfigError(f"unknown key '{where}{key}' in {file} (known here: {known})")
    for key, spec in schema.items():
        name = f"{where}{key}"
        if isinstance(spec, dict):
            sub = data.get(key, {})
            if not isinstance(sub, dict):
                raise ConfigError(f"'{name}' in {file} must be a table ([{name}])")
            out[key] = _merge(spec, sub, f"{name}.", file)
            continue
        t, default = spec
        if key not in data:
            out[key] = default.copy() if isinstance(default, (list, dict)) else default
            continue
        value = data[key]
        if not _is_type(value, t):
            raise ConfigError(f"'{name}' in {file} must be {_type_name(t)}, not {value!r}")
        out[key] = value
    return out


def _check(raw: dict[str, Any], file: str) -> None:
    cats = raw["newsletter"]["categories"]
    if not cats or not all(isinstance(c, str) and c.strip() for c in cats):
        raise ConfigError(f"'newsletter.categories' in {file} must be a non-empty list of arXiv categories")
    queries = raw["sources"]["hackernews"]["queries"]
    if not all(isinstance(q, str) and q.strip() for q in queries):
        raise ConfigError(f"'sources.hackernews.queries' in {file} must be a list of link hosts (strings)")
    for key, w in raw["ranking"]["weights"].items():
        if not _is_type(w, _NUM) or w < 0:
            raise ConfigError(f"'ranking.weights.{key}' in {file} must be a number >= 0")
    if raw["sources"]["x"]["endpoint"] not in ("auto", "recent", "all"):
        raise ConfigError(f"'sources.x.endpoint' in {file} must be \"auto\", \"recent\" or \"all\"")
    for section, key in (("arxiv", "api_url"), ("arxiv", "rss_url"), ("newsletter", "site_url")):
        if not raw[section][key].startswith(("http://", "https://")):
            raise ConfigError(f"'{section}.{key}' in {file} must be an http(s) URL")
    em = raw["email"]
    if em["max_papers"] < 1 or em["abstract_chars"] < 50 or em["posts_per_paper"] < 0:
        raise ConfigError(f"[email] in {file}: max_papers must be >= 1, abstract_chars >= 50, posts_per_paper >= 0")
    try:
        em["subject"].format(title="t", date="d", top_title="x", count=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"'email.subject' in {file} may use {{title}}, {{date}}, {{top_title}} and {{count}} only ({exc})"
        ) from None
    sm = raw["smtp"]
    if sm["security"] not in ("starttls", "tls", "none"):
        raise ConfigError(f"'smtp.security' in {file} must be \"starttls\", \"tls\" or \"none\"")
    if sm["security"] == "none" and sm["host"] not in ("localhost", "127.0.0.1", "::1"):
        raise ConfigError(f"'smtp.security' = \"none\" in {file} is only allowed for localhost, not {sm['host']}")
    if not 0 < sm["port"] < 65536 or sm["rate"] < 0 or sm["timeout"] <= 0:
        raise ConfigError(f"[smtp] in {file}: port must be 1-65535, rate >= 0, timeout > 0")
    for section, values in (("email", em), ("delivery", raw["delivery"]), ("smtp", sm)):
        for key, value in values.items():
            if isinstance(value, str) and any(c in value for c in "\r\n\x00"):
                raise ConfigError(f"'{section}.{key}' in {file} contains a line break; header values cannot")
    if raw["delivery"]["max_attempts"] < 1:
        raise ConfigError(f"'delivery.max_attempts' in {file} must be at least 1")
    if raw["feeds"]["issues"] < 1:
        raise ConfigError(f"'feeds.issues' in {file} must be at least 1")
    if raw["feeds"]["base_url"] and not raw["feeds"]["base_url"].startswith(("http://", "https://")):
        raise ConfigError(f"'feeds.base_url' in {file} must be an http(s) URL")
    if raw["arxiv"]["delay_seconds"] < 0 or raw["arxiv"]["page_size"] < 1:
        raise ConfigError(f"'arxiv.delay_seconds' must be >= 0 and 'arxiv.page_size' >= 1 in {file}")


def from_dict(data: dict[str, Any], *, path: Path | None = None, base_dir: Path | None = None) -> Config:
    """Validate a parsed TOML document and fill in defaults."""
    file = str(path) if path else "<config>"
    raw = _merge(SCHEMA, data, "", file)
    _check(raw, file)
    base = base_dir or (path.parent if path else Path.cwd())
    return Config(path=path, base_dir=base.resolve(), raw=raw)


def find_config_path(explicit: str | Path | None) -> tuple[Path, bool]:
    """The config file to use and whether the user named it explicitly."""
    if explicit:
        return Path(explicit), True
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env), True
    return Path.cwd() / DEFAULT_CONFIG_NAME, False


def load(explicit: str | Path | None = None) -> Config:
    """Load the config (flag > $NEWSLETTER_CONFIG > ./newsletter.toml > defaults)."""
    path, named = find_config_path(explicit)
    if not path.exists():
        if named:
            raise ConfigError(f"config file {path} does not exist; create one with 'newsletter init'")
        return from_dict({}, base_dir=Path.cwd())
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return from_dict(data, path=path, base_dir=path.resolve().parent)


DEFAULT_TOML = '''\
# Hot Papers newsletter configuration. Relative paths are relative to this file.
# Secrets are never written here: only the names of environment variables.

[newsletter]
title = "Hot Papers"
# arXiv categories; an archive such as "cs" means every cs.* category.
categories = ["cs", "stat.ML"]
site_url = "https://example.org"

[arxiv]
api_url = "https://export.arxiv.org/api/query"   # used for past days
rss_url = "https://rss.arxiv.org/rss"             # used for the current mailing
delay_seconds = 3.0    # arXiv's terms: at most one request every 3 seconds
page_size = 500        # API results per request (max 2000)
max_results = 0        # cap on papers per day; 0 = no cap
retries = 4            # retries for 429/503, empty or short pages

[sources]
window_hours = 48      # how long after the announcement posts are counted

[sources.x]
enabled = true
api_url = "https://api.x.com/2"
oembed_url = "https://publish.twitter.com/oembed"
token_env = "X_BEARER_TOKEN"   # name of the env var holding the bearer token
query = 'url:"arxiv.org" -is:retweet'
endpoint = "auto"              # auto | recent (last 7 days) | all (full archive)
max_posts = 10000              # stop collecting after this many posts
max_requests = 200             # and after this many search requests

[sources.huggingface]
enabled = true
api_url = "https://huggingface.co/api"
max_requests = 10

[sources.hackernews]
enabled = true
api_url = "https://hn.algolia.com/api/v1"
queries = ["arxiv.org", "alphaxiv.org", "huggingface.co/papers"]   # link hosts searched
max_requests = 20

[sources.bluesky]
enabled = true                       # skipped with a warning without credentials
api_url = "https://bsky.social/xrpc"
handle_env = "BLUESKY_HANDLE"        # env var with your handle
password_env = "BLUESKY_APP_PASSWORD" # env var with an app password
query = "arxiv.org"
max_requests = 50

[ranking]
min_paper_score = 50
min_post_score = 25
max_posts_per_paper = 10

[ranking.weights]   # see the README: one unit of attention = 1 point
x = 1.0             # a retweet or a like counts 1
huggingface = 1.0   # an upvote counts 1
hackernews = 1.0    # a point counts 1
bluesky = 1.0       # a repost or a like counts 1

[output]
posts_dir = "content/posts"
feeds_dir = "feeds"
email_dir = "email"
templates_dir = ""   # a folder whose templates override the bundled ones

[store]
path = "newsletter.db"

[email]
subject = "Hot Papers {date}: {top_title}"   # also {title} and {count}
from = "Hot Papers <hotpapers@example.org>"
reply_to = ""
max_papers = 20        # papers in the email
abstract_chars = 600   # abstracts are cut at a word boundary
posts_per_paper = 2    # quotes shown under each paper
template = ""          # your own MJML Jinja template (path), instead of email.mjml.j2
text_template = ""     # your own plain-text template, instead of email.txt.j2

[delivery]
unsubscribe_url = ""      # default {site_url}/unsubscribe (served by 'newsletter serve')
unsubscribe_mailto = ""   # e.g. "unsubscribe@example.org": a mailto: in List-Unsubscribe
secret_env = "NEWSLETTER_SECRET"   # env var with the secret that signs unsubscribe tokens
list_id = ""              # default "{title} <hot-papers.{site host}>"
message_id_domain = ""    # default: the From address's domain
outbox = "outbox"         # where 'send --dry-run' writes .eml files
max_attempts = 3          # tries per recipient within one run for 4xx replies
retry_backoff = 30.0      # seconds before retrying deferred recipients (doubles)
dkim_selector = ""        # DKIM signing when these three are set
dkim_domain = ""
dkim_key_file = ""        # PEM private key (keep it out of the repository)

[smtp]
host = "localhost"
port = 587
security = "starttls"     # starttls | tls | none (none only for localhost)
username = ""
password_env = "SMTP_PASSWORD"   # env var holding the password
ca_file = ""              # extra CA bundle to verify the server with
rate = 0.0                # messages per second, 0 = as fast as the server takes them
timeout = 30.0

[feeds]
issues = 14          # how many recent issues the feeds keep
title = ""           # default: [newsletter] title
subtitle = ""
icon = ""            # URL of a square icon
author_name = ""     # default: the title
author_email = ""
base_url = ""        # where feeds_dir is published; default: {site_url}/feeds

[http]
timeout = 30.0
retries = 4
backoff = 2.0        # seconds, doubled on each retry (Retry-After wins)
max_wait = 900.0     # never wait longer than this for a rate limit
user_agent = "newsletter-hotpapers/0.1 (+https://example.org; mailto:admin@example.org)"
'''
