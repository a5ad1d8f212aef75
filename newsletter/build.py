"""The build stage: a day's outputs from the archive alone (post, feeds,
email, website), rendered in full before anything is written, then written
atomically. No network, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from newsletter import mailing, parallel
from newsletter.config import Config
from newsletter.errors import NewsletterError
from newsletter.files import check_output_dirs, clean_stale_temps, exclusive, write_atomic, write_if_changed
from newsletter.issues import IssueCache, nothing_to_publish
from newsletter.models import Issue, IssueKey
from newsletter.render.templates import template_errors
from newsletter.siteplan import (SITE_FINGERPRINT, SitePlan, SitePrep, category_feed_files, plan_site, prepare_site,
                                 templates_dir)
from newsletter.store import Archive

__all__ = ["BuildSummary", "build_day", "output_dirs", "write_outputs"]


@dataclass
class BuildSummary:
    key: IssueKey
    files: list[Path]
    ranked: int
    unchanged: int = 0
    late: int = 0  # a weekly issue's papers that were not in their own daily issue
    warning: str = ""  # what did not work but does not stop the issue (the search index)

    def line(self) -> str:
        late = f" ({self.late} new this week)" if self.key.is_week else ""
        return (f"{self.key}: {self.ranked} papers ranked{late}, {len(self.files)} files written"
                f"{f', {self.unchanged} unchanged' if self.unchanged else ''}"
                f"{f'; warning: {self.warning}' if self.warning else ''}")


@dataclass
class Written:
    paths: list[Path]
    unchanged: int = 0  # site files left as they were
    warning: str = ""


def output_dirs(cfg: Config) -> dict[str, Path]:
    """Every folder a build writes to, by the setting that names it (for errors)."""
    return {"[output] posts_dir": cfg.posts_dir, "[output] feeds_dir": cfg.feeds_dir,
            "[output] email_dir": cfg.email_dir, "[output] site_dir": cfg.site_dir}


def write_outputs(cfg: Config, outputs: dict[Path, str | bytes], site: SitePlan | None) -> Written:
    """Write what a build rendered: ``outputs`` always, the site's files
    only where their bytes changed, then the search index of the changed
    pages (a failure there is a warning: the issue is out). Builds take turns
    (a lock beside the archive), so every temporary file found in the
    published folders was left by a build that died, and is removed,
    however new."""
    with exclusive(cfg.store_path.with_name(cfg.store_path.name + ".build-lock")):
        for folder in output_dirs(cfg).values():
            clean_stale_temps(folder)
        paths = [write_atomic(path, data) for path, data in outputs.items()]
        if site is None:
            return Written(paths)
        written = [path for path, data in site.files.items() if write_if_changed(path, data)]
        pages = [p.relative_to(cfg.site_dir) for p in written if p.suffix == ".html" and p.is_relative_to(cfg.site_dir)]
        warning = ""
        if cfg.output.search and pages:
            from newsletter.sitesearch import index_site

            try:
                index_site(cfg.site_dir, pages)
            except NewsletterError as exc:
                warning = str(exc)
    return Written(paths + written, len(site.files) - len(written), warning)


def build_day(cfg: Config, day: date, archive: Archive) -> BuildSummary:
    """Render a day's outputs from the archive, then write them atomically.
    Output folders are checked and everything is rendered before anything is
    written, so a failure leaves the published files as they were."""
    mailing.require_mailing_day(day)
    check_output_dirs(output_dirs(cfg))
    cache = IssueCache(cfg, archive)
    issue = cache.get(day)
    if not issue.papers:
        raise nothing_to_publish(cfg, archive, issue, "nothing was written")
    templates = templates_dir(cfg)
    recent = cache.recent(cfg.feeds.issues)
    prep = prepare_site(cfg, archive, cache, {day})
    items = prep.category_items()
    # every feed (the six, the changed categories') on the other core, while this one renders the rest
    feeds_job = parallel.in_background(lambda: (main_feed_files(cfg, recent, templates),
                                                category_feed_files(cfg, items)))
    try:
        outputs, site = _render_day(cfg, archive, cache, issue, templates, prep)
    except BaseException:
        feeds_job.abandon()
        raise
    feeds, category_feeds = feeds_job.result()
    site.add_feeds(cfg, {**feeds, **category_feeds})
    outputs.update({cfg.feeds_dir / name: data for name, data in feeds.items()})
    done = write_outputs(cfg, outputs, site)
    archive.set_meta(SITE_FINGERPRINT, site.fingerprint)
    return BuildSummary(issue.key, done.paths, len(issue.papers), unchanged=done.unchanged, warning=done.warning)


def _render_day(cfg: Config, archive: Archive, cache: IssueCache, issue: Issue, templates: str | None,
                prep: SitePrep) -> tuple[dict[Path, str | bytes], SitePlan]:
    from newsletter.render.email import EmailSettings, render_email
    from newsletter.render.markdown import post_filename, render_post

    day = issue.date
    with template_errors():
        outputs: dict[Path, str | bytes] = {cfg.posts_dir / post_filename(day): render_post(issue, templates)}
        email = render_email(issue, EmailSettings.from_config(cfg), templates)
        site = plan_site(cfg, archive, cache, {day}, prep=prep)
    outputs[cfg.email_dir / f"{issue.key}.html"] = email.html
    outputs[cfg.email_dir / f"{issue.key}.txt"] = email.text
    return outputs, site


def main_feed_files(cfg: Config, recent: list[Issue], templates: str | None) -> dict[str, bytes]:
    """The six daily feeds (papers and daily digest, each as Atom, RSS, JSON)."""
    from newsletter.render.feeds import FeedSettings, render_feeds

    with template_errors():
        return render_feeds(recent, FeedSettings.from_config(cfg), templates)
