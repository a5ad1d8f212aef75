"""The deployable WSGI app, at the name the README and servers use:
``waitress-serve newsletter.web:app`` (or gunicorn). Loading it reads the
config ($NEWSLETTER_CONFIG or ./newsletter.toml) and refuses to start without
the signing secret. The app itself lives in ``newsletter.delivery.web``."""

from newsletter.delivery.web import deployable_app

app = deployable_app()
