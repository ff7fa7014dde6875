"""Contentstack's own Python SDK (``contentstack`` 2.8.0) against the local stack over https.

The SDK builds ``https://{host}/v3`` URLs and sends its own query strings and headers, so these
tests check what an existing Python app would see if it were pointed at ``sitegen stack serve``
instead of Contentstack: every endpoint family of the CDA reference, through the SDK's methods,
never through requests we make by hand. The example site's stack is the content.
"""

from __future__ import annotations

import json

import contentstack
import pytest
from contentstack.basequery import QueryOperation

from tests.stack_fixtures import EXAMPLE_STACK, copy_example_stack
from tests.tls_stack import make_certificates, serve_tls

API_KEY = "local_example_key"
DELIVERY_TOKEN = "local_example_token"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("sdk")
    stack_dir = root / "stack"
    copy_example_stack(stack_dir)
    certificates = make_certificates(root / "tls")
    with serve_tls(stack_dir, certificates) as served:
        yield served


@pytest.fixture
def stack(served, monkeypatch):
    # requests reads it on every call; the machine may point it at the system bundle already
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served.certificates.ca))
    return contentstack.Stack(API_KEY, DELIVERY_TOKEN, "production", host=served.host)


def posts(stack):
    return stack.content_type("blog_post").query()


def entries_of(result):
    assert "entries" in result, result
    return result["entries"]


# -- content types -------------------------------------------------------------------------------


def test_content_types(stack):
    listed = stack.content_type().find()
    uids = {ct["uid"] for ct in listed["content_types"]}
    assert {"blog_post", "author", "category", "page"} <= uids
    one = stack.content_type("blog_post").fetch()["content_type"]
    assert one["uid"] == "blog_post"
    assert any(field["uid"] == "author" for field in one["schema"])


# -- entries -------------------------------------------------------------------------------------


def test_query_with_count_limit_and_skip(stack):
    first = posts(stack).include_count().limit(5).find()
    english = list((EXAMPLE_STACK / "entries/blog_post").glob("*.en-us.json"))
    assert first["count"] == len(english) and len(first["entries"]) == 5
    second = posts(stack).limit(5).skip(5).find()
    assert not {e["uid"] for e in first["entries"]} & {e["uid"] for e in second["entries"]}


def test_every_query_operator(stack):
    def where(field, op, value):
        return entries_of(posts(stack).where(field, op, fields=value).find())

    featured = where("featured", QueryOperation.EQUALS, True)
    assert featured and all(e["featured"] is True for e in featured)
    assert all(
        e.get("featured") is not True for e in where("featured", QueryOperation.NOT_EQUALS, True)
    )
    some = [e["uid"] for e in featured[:2]]
    assert {e["uid"] for e in where("uid", QueryOperation.INCLUDES, some)} == set(some)
    assert not {e["uid"] for e in where("uid", QueryOperation.EXCLUDES, some)} & set(some)
    short = where("reading_time", QueryOperation.IS_LESS_THAN, 5)
    assert short and all(e["reading_time"] < 5 for e in short)
    assert all(
        e["reading_time"] <= 5
        for e in where("reading_time", QueryOperation.IS_LESS_THAN_OR_EQUAL, 5)
    )
    assert all(
        e["reading_time"] > 5 for e in where("reading_time", QueryOperation.IS_GREATER_THAN, 5)
    )
    assert all(
        e["reading_time"] >= 5
        for e in where("reading_time", QueryOperation.IS_GREATER_THAN_OR_EQUAL, 5)
    )
    with_notes = where("notes", QueryOperation.EXISTS, True)
    assert all("notes" in e for e in with_notes)
    titled = where("title", QueryOperation.MATCHES, "^Typography")
    assert [e["title"] for e in titled] == ["Typography for forms"]


def test_references_included_and_queried(stack):
    entry = posts(stack).include_reference(["author", "categories"]).limit(1).find()["entries"][0]
    assert entry["author"][0]["title"] and entry["author"][0]["_content_type_uid"] == "author"
    # where_in() of 2.8.0 sends `query=author` (it urlencodes a dict): put $in_query in the
    # query the SDK serializes itself
    query = posts(stack)
    query.parameters["author"] = {"$in_query": {"uid": "priya-raman"}}
    by_priya = entries_of(query.find())
    assert by_priya and all(e["author"][0]["uid"] == "priya-raman" for e in by_priya)


def test_single_entry_locale_fallback_and_projection(stack):
    uid = "typography-for-forms"
    entry = stack.content_type("blog_post").entry(uid).include_reference("author").fetch()["entry"]
    assert entry["uid"] == uid and entry["author"][0]["uid"] == "priya-raman"
    french = stack.content_type("blog_post").entry(uid).locale("fr-fr").include_fallback().fetch()
    assert french["entry"]["locale"] == "en-us"  # not translated: the fallback answers
    missing = stack.content_type("blog_post").entry(uid).locale("fr-fr").fetch()
    assert missing["error_code"] == 141
    only = stack.content_type("blog_post").entry(uid).only("title").fetch()["entry"]
    assert set(only) == {"uid", "title"}


def test_embedded_items(stack):
    found = posts(stack).include_embedded_items().find()["entries"]
    assert any(e.get("_embedded_items") for e in found)


# -- assets --------------------------------------------------------------------------------------


def test_assets(stack):
    listed = stack.asset_query().find()["assets"]
    assert len(listed) == 20
    one = stack.asset(uid="avatar-aiko-tanaka").fetch()["asset"]
    assert one["uid"] == "avatar-aiko-tanaka" and one["filename"] == "aiko-tanaka.png"


# -- sync ----------------------------------------------------------------------------------------


def test_sync_init_pagination_and_token_after_edits(served, stack):
    result = stack.sync_init()
    items = list(result["items"])
    while "pagination_token" in result:
        result = stack.pagination(result["pagination_token"])
        items += result["items"]
    assert len(items) == result["total_count"] if "total_count" in result else items
    token = result["sync_token"]
    entry_file = served.stack_dir / "entries/author/aiko-tanaka.en-us.json"
    edited = json.loads(entry_file.read_text())
    edited["title"] = "Aiko Tanaka (edited)"
    entry_file.write_text(json.dumps(edited))
    (served.stack_dir / "entries/callout/callout-hiring.en-us.json").unlink()
    stack.sync_param = {}  # the SDK keeps the last call's parameters (a bug of 2.8.0)
    delta = stack.sync_token(token)
    kinds = {(i["type"], i["data"]["uid"]) for i in delta["items"]}
    assert ("entry_published", "aiko-tanaka") in kinds
    assert ("entry_deleted", "callout-hiring") in kinds
    published = next(i for i in delta["items"] if i["data"]["uid"] == "aiko-tanaka")
    assert published["data"]["title"] == "Aiko Tanaka (edited)"


# -- errors --------------------------------------------------------------------------------------


def test_errors_come_back_as_contentstack_bodies(served, stack):
    assert stack.content_type("nope").fetch()["error_code"] == 118
    assert stack.content_type("blog_post").entry("nope").fetch()["error_code"] == 141
    wrong = contentstack.Stack(API_KEY, "wrong", "production", host=served.host)
    assert wrong.content_type().find()["error_code"] == 104


# -- global fields -------------------------------------------------------------------------------


def test_global_fields(stack):
    listed = stack.global_field().find()["global_fields"]
    assert [gf["uid"] for gf in listed] == ["seo"]
    seo = stack.global_field("seo").fetch()["global_field"]
    assert seo["title"] == "SEO" and seo["schema"][0]["uid"] == "meta_description"
    assert {"created_at", "updated_at", "_version"} <= set(seo)
    assert stack.global_field("nope").fetch()["error_code"] == 118
    # a content type that uses it names it; its schema comes inline only when asked for
    post = stack.content_type("blog_post").fetch()["content_type"]
    field = next(f for f in post["schema"] if f["uid"] == "seo")
    assert field["data_type"] == "global_field" and field["reference_to"] == "seo"
    assert "schema" not in field
    listed = stack.content_type().find({"include_global_field_schema": "true"})["content_types"]
    post = next(ct for ct in listed if ct["uid"] == "blog_post")
    field = next(f for f in post["schema"] if f["uid"] == "seo")
    assert field["schema"] == seo["schema"]


# -- taxonomies ----------------------------------------------------------------------------------


def tagged(entry, taxonomy="topics"):
    return {t["term_uid"] for t in entry.get("taxonomies", []) if t["taxonomy_uid"] == taxonomy}


def test_taxonomies_and_terms(stack):
    listed = stack.taxonomy().include_count().find()
    assert [t["uid"] for t in listed["taxonomies"]] == ["topics"] and listed["count"] == 1
    topics = stack.taxonomy("topics").fetch()  # the SDK unwraps {"taxonomy": …}
    assert topics["uid"] == "topics" and topics["name"] == "Topics" and topics["terms_count"] == 11
    assert stack.taxonomy("topics").locale("fr-fr").fetch()["name"] == "Sujets"
    terms = stack.taxonomy("topics").term().find()["terms"]
    assert [t["uid"] for t in terms][:4] == ["design", "typography", "accessibility", "engineering"]
    roots = stack.taxonomy("topics").term().depth(1).find()["terms"]
    assert [t["uid"] for t in roots] == ["design", "engineering", "studio-life"]
    frontend = stack.taxonomy("topics").term("frontend").fetch()
    assert frontend["uid"] == "frontend" and frontend["parent_uid"] == "engineering"
    assert frontend["depth"] == 2 and frontend["taxonomy_uid"] == "topics"
    assert stack.taxonomy("nope").fetch()["error_code"] == 141
    assert stack.taxonomy("topics").term("nope").fetch()["error_code"] == 141


def test_term_hierarchy_and_locales(stack):
    term = stack.taxonomy("topics").term
    assert [t["uid"] for t in term("web-performance").ancestors()] == ["frontend", "engineering"]
    assert [t["uid"] for t in term("web-performance").depth(1).ancestors()] == ["frontend"]
    below = [t["uid"] for t in term("engineering").descendants()]
    assert below == ["frontend", "web-performance", "infrastructure"]
    assert [t["uid"] for t in term("engineering").depth(1).descendants()] == [
        "frontend",
        "infrastructure",
    ]
    assert {t["locale"] for t in term("typography").locales()} == {"en-us", "fr-fr"}
    french = stack.taxonomy("topics").term().locale("fr-fr").find()["terms"]
    assert french and all(t["locale"] == "fr-fr" for t in french)
    assert "design" not in {t["uid"] for t in french}  # not translated
    mixed = stack.taxonomy("topics").term().locale("fr-fr").include_fallback().find()["terms"]
    assert {t["locale"] for t in mixed} == {"fr-fr", "en-us"} and len(mixed) == 11


def test_entries_by_taxonomy_with_every_operator(stack):
    def find(filter_):
        return entries_of(filter_.find({"limit": 100}))

    taxonomy = stack.taxonomy
    typography = find(taxonomy().in_("taxonomies.topics", ["typography"]))
    assert typography and all("typography" in tagged(e) for e in typography)
    assert all(e["_content_type_uid"] == "blog_post" for e in typography)
    eq_below = {
        e["uid"] for e in find(taxonomy().equal_and_below("taxonomies.topics", "engineering"))
    }
    below = {e["uid"] for e in find(taxonomy().below("taxonomies.topics", "engineering"))}
    one_level = {
        e["uid"] for e in find(taxonomy().equal_and_below("taxonomies.topics", "engineering", 1))
    }
    perf = {e["uid"] for e in find(taxonomy().in_("taxonomies.topics", ["web-performance"]))}
    assert perf and perf <= below <= eq_below and one_level <= eq_below
    only_engineering = {
        e["uid"] for e in find(taxonomy().in_("taxonomies.topics", ["engineering"]))
    }
    assert eq_below == below | only_engineering  # $eq_below is the term and $below
    above = find(taxonomy().above("taxonomies.topics", "web-performance"))
    assert above and all(tagged(e) & {"frontend", "engineering"} for e in above)
    eq_above = find(taxonomy().equal_and_above("taxonomies.topics", "web-performance", 1))
    assert all(tagged(e) & {"frontend", "web-performance"} for e in eq_above)
    tagged_at_all = find(taxonomy().exists("taxonomies.topics"))
    assert len(tagged_at_all) == 100  # every post is tagged (limit 100)
    either = find(
        taxonomy().or_(
            {"taxonomies.topics": {"$in": ["typography"]}},
            {"taxonomies.topics": {"$in": ["studio"]}},
        )
    )
    assert either and all(tagged(e) & {"typography", "studio"} for e in either)


def test_hierarchy_operators_on_a_content_types_entries(stack):
    query = posts(stack)
    query.parameters["taxonomies.topics"] = {"$eq_below": "design", "levels": 1}
    found = entries_of(query.limit(100).find())
    assert found and all(tagged(e) & {"design", "typography", "accessibility"} for e in found)


# -- include_dimension, include_branch -----------------------------------------------------------


def test_asset_dimensions_and_branch(stack):
    plain = stack.asset(uid="avatar-aiko-tanaka").fetch()["asset"]
    assert "dimension" not in plain and "_branch" not in plain
    sized = stack.asset(uid="avatar-aiko-tanaka").include_dimension().fetch()["asset"]
    assert sized["dimension"] == {"height": 96, "width": 96}
    listed = stack.asset_query().include_dimension().include_branch().find()["assets"]
    hero = next(a for a in listed if a["uid"] == "hero-harbour")
    assert hero["dimension"] == {"height": 600, "width": 1200} and hero["_branch"] == "main"


def test_entries_and_content_types_name_their_branch(stack):
    entry = posts(stack).include_branch().limit(1).find()["entries"][0]
    assert entry["_branch"] == "main"
    one = stack.content_type("blog_post").entry("typography-for-forms").include_branch().fetch()
    assert one["entry"]["_branch"] == "main"
    types = stack.content_type().find({"include_branch": "true"})["content_types"]
    assert all(ct["_branch"] == "main" for ct in types)
    term = stack.taxonomy("topics").term("frontend").include_branch().fetch()
    assert term["_branch"] == "main"


def test_metadata_and_last_activity(stack):
    entry = posts(stack).include_metadata().limit(1).find()["entries"][0]
    assert entry["_metadata"] == {"extensions": {}}  # a folder has no extensions
    assert "_metadata" not in posts(stack).limit(1).find()["entries"][0]
    asset = stack.asset_query().include_metadata().find()["assets"][0]
    assert asset["_metadata"] == {"extensions": {}}
    types = stack.content_type().find({"only_last_activity": "true"})["content_types"]
    post = next(ct for ct in types if ct["uid"] == "blog_post")
    (env,) = post["last_activity"]["environments"]
    newest = max(e["updated_at"] for e in posts(stack).limit(100).find()["entries"])
    assert {"locale": "en-us", "time": newest} in env["details"]


def test_branches_and_aliases(served, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(served.certificates.ca))

    def on(branch):
        return contentstack.Stack(
            API_KEY, DELIVERY_TOKEN, "production", host=served.host, branch=branch
        )

    uid = "typography-for-forms"
    for branch, title in (
        (None, "Typography for forms"),
        ("main", "Typography for forms"),
        ("develop", "Typography for forms (develop)"),
        ("staging", "Typography for forms (develop)"),
    ):
        got = on(branch).content_type("blog_post").entry(uid).include_branch().fetch()["entry"]
        assert (got["title"], got["_branch"]) == (title, "develop" if "(" in title else "main")
    refused = on("mai").content_type("blog_post").query().find()
    assert refused["error_code"] == 901 and "branch 'mai'" in refused["error_message"]


# -- tags and typeahead --------------------------------------------------------------------------


def test_tags_and_typeahead(stack):
    def uids(query):
        return {e["uid"] for e in entries_of(query.find())}

    assert uids(posts(stack).tags("case-study")) == {
        "debugging-a-layout-shift-in-production",
        "redesigning-a-ferry-timetable",
    }
    assert uids(posts(stack).tags("how-to", "performance")) == {
        "typography-for-forms",
        "web-font-loading-honestly",
        "debugging-a-layout-shift-in-production",
    }
    assert uids(posts(stack).tags("nothing-has-this")) == set()
    with pytest.warns(UserWarning, match="deprecated"):  # the SDK's own word on search()
        query = posts(stack).search("FERRY TIMETABLE")
    found = entries_of(query.find())
    assert found and all("ferry timetable" in json.dumps(e).lower() for e in found)
    assert "redesigning-a-ferry-timetable" in {e["uid"] for e in found}


# -- entry variants ------------------------------------------------------------------------------


def test_entry_variants_by_uid_and_by_personalize_alias(stack):
    home = stack.content_type("home").entry("home")
    base = home.fetch()["entry"]
    assert "variants" not in base["publish_details"]
    for name in ("returning_readers", "cs_personalize_0_0"):
        shown = stack.content_type("home").entry("home").variants(name).fetch()["entry"]
        assert shown["hero"]["eyebrow"] == "Welcome back"
        assert shown["title"] == base["title"]  # fields the variant leaves alone
        details = shown["publish_details"]["variants"]["returning_readers"]
        assert details["alias"] == "cs_personalize_0_0" and details["locale"] == "en-us"
        assert "_variant" not in shown  # the management API's shape, not the CDA's
    listed = stack.content_type("home").variants("returning_readers").find()["entries"]
    assert listed[0]["hero"]["eyebrow"] == "Welcome back"
    # a variant without changes for an entry leaves it as it is
    plain = (
        stack.content_type("blog_post")
        .entry("typography-for-forms")
        .variants("returning_readers")
        .fetch()
    )
    assert "variants" not in plain["entry"]["publish_details"]
    # unknown names change nothing; past three, names are dropped (the CDA drops them)
    unknown = stack.content_type("home").entry("home").variants("nope").fetch()["entry"]
    assert unknown["hero"] == base["hero"]
    fourth = ["a", "b", "c", "returning_readers"]
    assert (
        stack.content_type("home").entry("home").variants(fourth).fetch()["entry"]["hero"]
        == base["hero"]
    )
    last = ["nope", "returning_readers"]
    assert (
        stack.content_type("home").entry("home").variants(last).fetch()["entry"]["hero"]["eyebrow"]
        == "Welcome back"
    )


def test_asset_urls_are_absolute_as_on_the_cda(served, stack):
    one = stack.asset(uid="avatar-aiko-tanaka").fetch()["asset"]
    assert one["url"] == f"https://{served.host}/assets/avatar-aiko-tanaka/aiko-tanaka.png"
    relative = stack.asset(uid="avatar-aiko-tanaka").relative_urls().fetch()["asset"]
    assert relative["url"] == "/assets/avatar-aiko-tanaka/aiko-tanaka.png"
    cover = posts(stack).limit(1).find()["entries"][0]["cover"]
    assert cover["url"].startswith(f"https://{served.host}/assets/")
