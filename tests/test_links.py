import pytest

from newsletter.links import arxiv_ids_in, normalize_id, split_version


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/2006.15055",
        "http://arxiv.org/abs/2006.15055v2",
        "https://arxiv.org/pdf/2006.15055",
        "https://arxiv.org/pdf/2006.15055v1.pdf",
        "https://arxiv.org/pdf/2006.15055.pdf",
        "https://arxiv.org/html/2006.15055v3",
        "https://www.arxiv.org/abs/2006.15055",
        "http://export.arxiv.org/abs/2006.15055",
        "arxiv.org/abs/2006.15055",
        "https://alphaxiv.org/abs/2006.15055",
        "https://www.alphaxiv.org/overview/2006.15055v2",
        "https://huggingface.co/papers/2006.15055",
        "HTTPS://ARXIV.ORG/ABS/2006.15055",
    ],
)
def test_every_link_form_gives_the_bare_id(url):
    assert arxiv_ids_in(f"look: {url} !") == ["2006.15055"]


def test_old_style_and_five_digit_ids():
    text = "https://arxiv.org/abs/hep-th/9901001v2 and https://arxiv.org/abs/2401.12345"
    assert arxiv_ids_in(text) == ["hep-th/9901001", "2401.12345"]
    assert arxiv_ids_in("https://arxiv.org/abs/math.GT/0309136") == ["math.GT/0309136"]


def test_several_papers_in_one_post_each_once():
    text = "https://arxiv.org/abs/2101.00001 https://arxiv.org/pdf/2101.00001v2 https://arxiv.org/abs/2101.00002"
    assert arxiv_ids_in(text) == ["2101.00001", "2101.00002"]


def test_not_arxiv():
    assert arxiv_ids_in("https://example.org/abs/2101.00001 https://arxiv.org/list/cs.LG/recent") == []
    assert arxiv_ids_in(None) == []


def test_versions():
    assert split_version("2006.15055v12") == ("2006.15055", 12)
    assert split_version("arXiv:2006.15055") == ("2006.15055", 1)
    assert normalize_id("https://arxiv.org/abs/2006.15055v3") == "2006.15055"
    assert normalize_id("nonsense") is None
    with pytest.raises(ValueError):
        split_version("abc")


@pytest.mark.parametrize("text", [
    "https://arxiv.org/abs/2102.034061",        # one digit too many: another id, not 2102.03406
    "https://notarxiv.org/abs/2102.03406",      # not arXiv's host
    "https://arxiv.org.evil.test/abs/2102.03406",
    "https://myalphaxiv.org/abs/2102.03406",
    "https://arxiv.org/abs/２１０２.０３４０６",   # full-width digits are no id
    "https://arxiv.org/abs/2102.03406v2x",
    "https://fakehuggingface.co/papers/2102.03406",
    "mailto:me@arxiv.org/abs/2102.03406",
])
def test_links_match_only_at_boundaries_on_the_exact_hosts(text):
    assert arxiv_ids_in(text) == []


@pytest.mark.parametrize("text", [
    "(see https://arxiv.org/abs/2102.03406).", "https://arxiv.org/pdf/2102.03406v3.pdf",
    "arxiv.org/abs/2102.03406?context=cs", "https://www.alphaxiv.org/abs/2102.03406#x", "x: huggingface.co/papers/2102.03406",
])
def test_links_in_running_text_still_count(text):
    assert arxiv_ids_in(text) == ["2102.03406"]
