"""Configuration: one TOML file, resolved once at the edge and passed down.

One frozen dataclass per table (each source's table lives in its module), with
defaults, documentation and constraints on the fields; cross-field rules are in
``validate``. The key names are a contract with users and their scripts:
unknown keys and wrong values are refused with a message naming the key and
the file. Relative paths resolve against the config file's folder. Secrets
never live here, only the *names* of the environment variables holding them.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from newsletter.errors import ConfigError
from newsletter.settings import load_section, section_doc, setting, toml_section
from newsletter.sources import REGISTRY

CONFIG_ENV = "NEWSLETTER_CONFIG"
DEFAULT_CONFIG_NAME = "newsletter.toml"
LOCALHOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class NewsletterConfig:
    """What the publication is"""

    title: str = setting("Hot Papers", nonempty=True)
    categories: list[str] = setting(["cs", "stat.ML"], 'arXiv categories; an archive such as "cs" means every cs.*',
                                    nonempty=True)
    site_url: str = setting("https://example.org", "where the website is published", url=True)


@dataclass(frozen=True)
class ArxivConfig:
    """arXiv: RSS for the current mailing, the API for other days"""

    api_url: str = setting("https://export.arxiv.org/api/query", "used for past days", url=True)
    rss_url: str = setting("https://rss.arxiv.org/rss", "used for the current mailing", url=True)
    delay_seconds: float = setting(3.0, "arXiv's terms: at most one request every 3 seconds", ge=0)
    page_size: int = setting(2000, "API results per request (arXiv serves at most 2000)", ge=1, le=2000)
    max_results: int = setting(0, "cap on papers per day; 0 = no cap", ge=0)
    retries: int = setting(4, "retries for 429/503, empty or short pages", ge=0, le=20)
    html_url: str = setting("https://arxiv.org/html", "papers' HTML renderings, where figures are found (enrich)",
                            url=True)
    pdf_url: str = setting("https://arxiv.org/pdf", "PDFs, whose first page stands in when there is no HTML",
                           url=True)


@dataclass(frozen=True)
class SourcesConfig:
    """Social signals: one table per source below"""

    window_hours: float = setting(48.0, "how long after the announcement posts are counted", gt=0, le=24 * 366)
    tables: dict[str, Any] = field(default_factory=dict, init=False)


def _default_weights() -> dict[str, float]:
    return {name: s.weight for name, s in REGISTRY.items()}


@dataclass(frozen=True)
class RankingConfig:
    """The Hot Papers rule"""

    min_paper_score: float = setting(50.0, "a paper is listed from this many points", ge=0)
    min_post_score: float = setting(25.0, "a post is shown under its paper from this many", ge=0)
    max_posts_per_paper: int = setting(10, ge=1)
    weights: dict[str, float] = field(default_factory=_default_weights, metadata={
        "doc": "see the README: one unit of attention = 1 point"})


@dataclass(frozen=True)
class WeeklyConfig:
    """Hot Papers of the Week"""

    window_days: float = setting(7.0, "attention counted until this long after the week's last announcement",
                                 gt=0, le=60)
    min_paper_score: float = setting(100.0, "a paper is listed from this many points in the week", ge=0)
    max_papers: int = setting(20, ge=1)
    subject: str = setting("Hot Papers of the Week {week}: {top_title}", "also {title} and {count}", nonempty=True)


@dataclass(frozen=True)
class MediaConfig:
    """Enrich: each hot paper's figure, fetched once into the archive"""

    figures: bool = setting(True, "fetch each hot paper's first figure (arXiv HTML, else the PDF's first page)")
    budget_seconds: float = setting(120.0, "all of enrich (figures and summaries) stops after this long", gt=0,
                                    le=3600)
    timeout_seconds: float = setting(20.0, "seconds one download may take", gt=0, le=300)


@dataclass(frozen=True)
class SummariesConfig:
    """Enrich: a one-sentence summary of each hot paper by a language model (titles and abstracts only are sent)"""

    enabled: bool = setting(False)
    api_url: str = setting("http://127.0.0.1:11434/v1", "any OpenAI-compatible endpoint (this one: a local Ollama)",
                           url=True)
    model: str = setting("llama3.2", nonempty=True)
    api_key_env: str = setting("SUMMARIES_API_KEY", "env var holding the key (a local server needs none)",
                               nonempty=True)
    language: str = setting("en", "the issue's language: site, feeds and readers who chose none", nonempty=True)
    languages: list[str] = setting([], 'more that readers may choose, e.g. ["de", "ja"]')
    max_words: int = setting(30, ge=5, le=100)


@dataclass(frozen=True)
class OutputConfig:
    """Where build writes"""

    posts_dir: str = setting("content/posts", nonempty=True)
    feeds_dir: str = setting("feeds", nonempty=True)
    email_dir: str = setting("email", nonempty=True)
    site_dir: str = setting("site", "the website: publish this folder as it is", nonempty=True)
    templates_dir: str = setting("", "a folder whose templates override the bundled ones")
    search: bool = setting(True, "index the site for its search page with Pagefind after each build")


@dataclass(frozen=True)
class StoreConfig:
    """The archive"""

    path: str = setting("newsletter.db", nonempty=True)


@dataclass(frozen=True)
class EmailConfig:
    """The issue as an email"""

    subject: str = setting("Hot Papers {date}: {top_title}", "also {title} and {count}", nonempty=True)
    sender: str = setting("Hot Papers <hotpapers@example.org>", key="from", nonempty=True)
    reply_to: str = setting("")
    return_path: str = setting("", 'e.g. "bounces@example.org": each message\'s envelope sender becomes '
                                   "bounces+TAG@example.org (VERP), so a bounce names its reader for certain")
    max_papers: int = setting(20, "papers in the email", ge=1)
    abstract_chars: int = setting(600, "abstracts are cut at a word boundary", ge=50)
    posts_per_paper: int = setting(2, "quotes shown under each paper", ge=0)
    template: str = setting("", "your own MJML Jinja template (path), instead of email.mjml.j2")
    text_template: str = setting("", "your own plain-text template, instead of email.txt.j2")


@dataclass(frozen=True)
class DeliveryConfig:
    """Sending to subscribers"""

    web_url: str = setting("", "public URL of the web app ('newsletter serve'); the site's subscribe form posts "
                                "there", url=True)
    unsubscribe_url: str = setting("", "default {web_url or site_url}/unsubscribe", url=True)
    unsubscribe_mailto: str = setting("", 'e.g. "unsubscribe@example.org": a mailto: in List-Unsubscribe')
    secret_env: str = setting("NEWSLETTER_SECRET", "env var with the secret that signs unsubscribe links",
                              nonempty=True)
    list_id: str = setting("", 'default "{title} <hot-papers.{site host}>"')
    message_id_domain: str = setting("", "default: the From address's domain")
    outbox: str = setting("outbox", "where 'send --dry-run' writes .eml files", nonempty=True)
    max_attempts: int = setting(3, "tries per recipient within one run for 4xx replies", ge=1)
    retry_backoff: float = setting(30.0, "seconds before retrying deferred recipients (doubles)", ge=0)
    dkim_selector: str = setting("", "DKIM signing when these three are set")
    dkim_domain: str = setting("")
    dkim_key_file: str = setting("", "PEM private key (keep it out of the repository)")


@dataclass(frozen=True)
class SmtpConfig:
    """The SMTP relay"""

    host: str = setting("localhost", nonempty=True)
    port: int = setting(587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = setting("starttls", "none only for localhost")
    username: str = setting("")
    password_env: str = setting("SMTP_PASSWORD", "env var holding the password", nonempty=True)
    ca_file: str = setting("", "extra CA bundle to verify the server with")
    rate: float = setting(0.0, "messages per second over all connections, 0 = as fast as the server takes them",
                          ge=0)
    connections: int = setting(1, "SMTP connections sending at once (a provider's relay: 4-16)", ge=1, le=64)
    timeout: float = setting(30.0, gt=0)


@dataclass(frozen=True)
class BouncesConfig:
    """Bounces and complaints ('newsletter bounces')"""

    soft_limit: int = setting(5, "soft bounces (mailbox full) within soft_days that suppress an address", ge=1)
    soft_days: int = setting(14, ge=1, le=365)
    imap_host: str = setting("", "the mailbox bounces arrive in ('newsletter bounces fetch'); empty: none")
    imap_port: int = setting(993, ge=1, le=65535)
    imap_user: str = setting("")
    password_env: str = setting("BOUNCES_PASSWORD", "env var holding the mailbox password", nonempty=True)
    mailbox: str = setting("INBOX", nonempty=True)
    processed_folder: str = setting("Processed", "where processed messages are moved", nonempty=True)
    security: Literal["tls", "starttls"] = setting("tls", "certificates are always verified; never plaintext")
    ca_file: str = setting("", "extra CA bundle to verify the server with")
    webhook_secret_env: str = setting("NEWSLETTER_WEBHOOK_SECRET", "env var with the password of /webhooks/postmark "
                                      "(basic auth, or ?token=)", nonempty=True)
    mailgun_key_env: str = setting("MAILGUN_WEBHOOK_KEY", "env var with Mailgun's webhook signing key",
                                   nonempty=True)
    sns_hosts: list[str] = setting(["sns.*.amazonaws.com"], "hosts /webhooks/ses accepts signing certificates "
                                                           "and subscription URLs from (https only)")


@dataclass(frozen=True)
class ReportConfig:
    """A report to the operator after each 'run' (nothing is sent when neither is set)"""

    to: str = setting("", "an email address")
    webhook_url: str = setting("", "a JSON POST endpoint (Slack, Discord and Matrix hooks take it)", url=True)


@dataclass(frozen=True)
class DoctorConfig:
    """'newsletter doctor': the checks of the sending set-up"""

    test_address: str = setting("", "an address of yours: doctor subscribes it, unsubscribes it with a one-click "
                                    "POST to web_url, and puts it back")
    nameservers: list[str] = setting([], "DNS servers to ask (default: the system's)")
    dns_port: int = setting(53, ge=1, le=65535)


@dataclass(frozen=True)
class RunConfig:
    """The daily job ('newsletter run')"""

    catch_up_days: int = setting(5, "mailings missed since the newest archived issue (the machine was off) that "
                                     "'run' fetches and builds before today's; only today's is sent", ge=0, le=30)


@dataclass(frozen=True)
class WebConfig:
    """The readers' web app ('newsletter serve')"""

    trusted_proxies: list[str] = setting([], 'addresses or networks of your reverse proxies, e.g. ["127.0.0.1"]; '
                                             "only from these is X-Forwarded-For taken as the client")
    threads: int = setting(8, "requests served at once", ge=1, le=64)
    connection_limit: int = setting(500, "open connections waitress accepts (behind nginx, nginx takes the rest)",
                                    ge=10, le=900)
    channel_timeout: int = setting(10, "seconds an idle or stalled connection is kept", ge=1, le=300)
    outbox_retry: float = setting(30.0, "seconds before a failed confirmation is sent again (doubles)", ge=0)


@dataclass(frozen=True)
class FeedsConfig:
    """Atom, RSS and JSON feeds"""

    issues: int = setting(14, "how many recent issues the feeds keep", ge=1)
    title: str = setting("", "default: [newsletter] title")
    subtitle: str = setting("")
    icon: str = setting("", "URL of a square icon", url=True)
    author_name: str = setting("", "default: the title")
    author_email: str = setting("")
    base_url: str = setting("", "where feeds_dir is published; default: {site_url}/feeds", url=True)


@dataclass(frozen=True)
class HttpConfig:
    """Every HTTP request"""

    timeout: float = setting(30.0, "seconds a request may take in all (connect, headers, body)", gt=0)
    retries: int = setting(4, ge=0, le=20)
    backoff: float = setting(2.0, "seconds, doubled on each retry (Retry-After wins)", ge=0)
    max_wait: float = setting(900.0, "never wait longer than this for a rate limit", ge=0)
    user_agent: str = setting("newsletter-hotpapers/0.1 (+https://example.org; mailto:admin@example.org)",
                              nonempty=True)


SECTIONS: dict[str, type] = {
    "newsletter": NewsletterConfig, "arxiv": ArxivConfig, "sources": SourcesConfig, "ranking": RankingConfig,
    "weekly": WeeklyConfig, "media": MediaConfig, "summaries": SummariesConfig,
    "output": OutputConfig, "store": StoreConfig, "email": EmailConfig, "delivery": DeliveryConfig,
    "smtp": SmtpConfig, "web": WebConfig, "bounces": BouncesConfig, "report": ReportConfig, "doctor": DoctorConfig, "run": RunConfig, "feeds": FeedsConfig, "http": HttpConfig,
}


@dataclass(frozen=True)
class Config:
    """The resolved configuration: one typed section per table."""

    path: Path | None
    base_dir: Path
    newsletter: NewsletterConfig = field(default_factory=NewsletterConfig)
    arxiv: ArxivConfig = field(default_factory=ArxivConfig)
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    ranking: RankingConfig = field(default_factory=RankingConfig)
    weekly: WeeklyConfig = field(default_factory=WeeklyConfig)
    media: MediaConfig = field(default_factory=MediaConfig)
    summaries: SummariesConfig = field(default_factory=SummariesConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    delivery: DeliveryConfig = field(default_factory=DeliveryConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    web: WebConfig = field(default_factory=WebConfig)
    bounces: BouncesConfig = field(default_factory=BouncesConfig)
    report: ReportConfig = field(default_factory=ReportConfig)
    doctor: DoctorConfig = field(default_factory=DoctorConfig)
    run: RunConfig = field(default_factory=RunConfig)
    feeds: FeedsConfig = field(default_factory=FeedsConfig)
    http: HttpConfig = field(default_factory=HttpConfig)

    @property
    def title(self) -> str:
        return self.newsletter.title

    @property
    def categories(self) -> list[str]:
        return list(self.newsletter.categories)

    @property
    def site_url(self) -> str:
        return self.newsletter.site_url.rstrip("/")

    @property
    def window_hours(self) -> float:
        return self.sources.window_hours

    def source(self, name: str) -> Any:
        """The config section of a registered source."""
        return self.sources.tables[name]

    def resolve(self, value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def store_path(self) -> Path:
        return self.resolve(self.store.path)

    @property
    def posts_dir(self) -> Path:
        return self.resolve(self.output.posts_dir)

    @property
    def feeds_dir(self) -> Path:
        return self.resolve(self.output.feeds_dir)

    @property
    def site_dir(self) -> Path:
        return self.resolve(self.output.site_dir)

    @property
    def email_dir(self) -> Path:
        return self.resolve(self.output.email_dir)

    @property
    def feeds_base_url(self) -> str:
        """Where feeds_dir is published."""
        return (self.feeds.base_url or f"{self.site_url}/feeds").rstrip("/")

    @property
    def templates_dir(self) -> Path | None:
        v = self.output.templates_dir
        return self.resolve(v) if v else None


def validate(cfg: Config, file: str) -> None:
    """The rules that involve more than one field."""
    from newsletter.categories import is_known

    for cat in cfg.newsletter.categories:
        if not is_known(cat):
            raise ConfigError(f"'newsletter.categories' in {file} must be a list of arXiv archives or categories "
                              f"such as \"cs\" or \"cs.LG\" (arxiv.org/category_taxonomy), not {cat!r}")
    for key, template, names in (("weekly.subject", cfg.weekly.subject, ("title", "week", "top_title", "count")),
                                 ("email.subject", cfg.email.subject, ("title", "date", "top_title", "count"))):
        try:
            template.format(**{n: "0" for n in names})
        except (KeyError, IndexError, ValueError, AttributeError) as exc:
            allowed = ", ".join("{" + n + "}" for n in names[:-1]) + " and {" + names[-1] + "}"
            raise ConfigError(f"'{key}' in {file} may use {allowed} only ({exc})") from None
    if cfg.smtp.security == "none" and cfg.smtp.host not in LOCALHOSTS:
        raise ConfigError(f"'smtp.security' = \"none\" in {file} is only allowed for localhost, not {cfg.smtp.host}")
    for proxy in cfg.web.trusted_proxies:
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"'web.trusted_proxies' in {file} must hold IP addresses or networks such as "
                              f"\"127.0.0.1\" or \"10.0.0.0/8\", not {proxy!r}") from None
    for lang in [cfg.summaries.language, *cfg.summaries.languages]:
        if not (2 <= len(lang) <= 8 and lang.replace("-", "").isalnum() and lang.isascii()):
            raise ConfigError(f"'summaries.languages' in {file} must hold language codes such as \"en\" or "
                              f"\"pt-BR\", not {lang!r}")
    if not urlsplit(cfg.newsletter.site_url).hostname:
        raise ConfigError(f"'newsletter.site_url' in {file} must be an http(s) URL with a host")


def from_dict(data: dict[str, Any], *, path: Path | None = None, base_dir: Path | None = None) -> Config:
    """Validate a parsed TOML document and fill in defaults."""
    file = str(path) if path else "<config>"
    if not isinstance(data, dict):
        raise ConfigError(f"{file} must be a TOML document")
    for key in data:
        if key not in SECTIONS:
            raise ConfigError(f"unknown key '{key}' in {file} (known here: {', '.join(SECTIONS)})")
    sections: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        extra = {s.name: s.config for s in REGISTRY.values()} if name == "sources" else None
        sections[name] = load_section(cls, data.get(name, {}), name, file, extra=extra)
    base = base_dir or (path.parent if path else Path.cwd())
    cfg = Config(path=path, base_dir=base.resolve(), **sections)
    validate(cfg, file)
    return cfg


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
    if path.is_dir():
        raise ConfigError(f"{path} is a folder, not a config file; pass the file with --config")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return from_dict(data, path=path, base_dir=path.resolve().parent)


def default_toml() -> str:
    """The commented config ``newsletter init`` writes, made from the sections
    above and the sources' own tables: it cannot drift from the code."""
    parts = ["# Hot Papers newsletter configuration. Relative paths are relative to this file.\n"
             "# Secrets are never written here: only the names of environment variables."]
    for name, cls in SECTIONS.items():
        parts.append(toml_section(cls, name, section_doc(cls)))
        if name == "sources":
            parts.extend(toml_section(s.config, f"sources.{s.name}", section_doc(s.config))
                         for s in REGISTRY.values())
    return "\n\n".join(parts) + "\n"
