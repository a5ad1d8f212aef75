"""Hot Papers: the day's arXiv papers ranked by the attention they got on social media."""

__version__ = "0.1.0"
