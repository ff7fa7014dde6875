// Contentstack's legacy JavaScript SDK (the `contentstack` npm package, 3.x) against sitegen's
// local stack over https. It sends requests its own way (a trailing slash on entry lists,
// include[] and tags[] arrays, only_last_activity), so it checks forms the newer SDK never sends.
// Run by tests/test_sdk_js.py: node legacy_checks.mjs PORT (NODE_EXTRA_CA_CERTS names the CA).
// Prints one line per check, "ok <name>" or "FAIL <name>: <why>", and exits 1 if any failed.
import assert from "node:assert/strict";
import { runChecks } from "./run_checks.mjs";
import Contentstack from "contentstack";

const port = Number(process.argv[2]);
const onBranch = (branch) => {
  const stack = Contentstack.Stack({
    api_key: "local_example_key",
    delivery_token: "local_example_token",
    environment: "production",
    ...(branch ? { branch } : {}),
  });
  stack.setHost("127.0.0.1");
  stack.setPort(port);
  stack.setProtocol("https");
  return stack;
};
const Stack = onBranch(null);
const posts = () => Stack.ContentType("blog_post").Query();

const checks = {
  async "content types"() {
    const { content_types } = await Stack.getContentTypes();
    assert.ok(content_types.some((ct) => ct.uid === "blog_post"));
  },
  async "entries with count, limit and skip (trailing slash)"() {
    const [first, count] = await posts().includeCount().limit(5).toJSON().find();
    assert.equal(first.length, 5);
    assert.ok(count > 5);
    const [second] = await posts().skip(5).limit(5).toJSON().find();
    assert.ok(second.every((e) => !first.some((f) => f.uid === e.uid)));
  },
  async "where, lessThan, containedIn, regex"() {
    const [featured] = await posts().where("featured", true).toJSON().find();
    assert.ok(featured.length > 0 && featured.every((e) => e.featured === true));
    const [short] = await posts().lessThan("reading_time", 5).toJSON().find();
    assert.ok(short.length > 0 && short.every((e) => e.reading_time < 5));
    const some = featured.slice(0, 2).map((e) => e.uid);
    const [within] = await posts().containedIn("uid", some).toJSON().find();
    assert.deepEqual(new Set(within.map((e) => e.uid)), new Set(some));
    const [regex] = await posts().regex("title", "^Typography").toJSON().find();
    assert.deepEqual(regex.map((e) => e.title), ["Typography for forms"]);
  },
  async "includeReference"() {
    const [entries] = await posts().includeReference("author").limit(1).toJSON().find();
    assert.ok(entries[0].author[0].title, JSON.stringify(entries[0].author[0]));
  },
  async "single entry, locale fallback"() {
    const uid = "typography-for-forms";
    const entry = await Stack.ContentType("blog_post").Entry(uid).toJSON().fetch();
    assert.equal(entry.uid, uid);
    const french = await Stack.ContentType("blog_post").Entry(uid).language("fr-fr").includeFallback().toJSON().fetch();
    assert.equal(french.locale, "en-us");
  },
  async "tags and search"() {
    const [all] = await posts().limit(100).toJSON().find();
    const tag = all.flatMap((e) => e.tags)[0];
    assert.ok(tag, "a tagged post in the example stack");
    const [tagged] = await posts().tags([tag]).toJSON().find();
    assert.ok(tagged.length > 0 && tagged.every((e) => e.tags.includes(tag)));
    const [none] = await posts().tags(["no-such-tag"]).toJSON().find();
    assert.equal(none.length, 0);
    const [found] = await posts().search("ferry timetable").toJSON().find();
    assert.ok(found.length > 0 && found.length < all.length);
  },
  async "assets with dimensions and metadata"() {
    const [assets] = await Stack.Assets().Query().addParam("include_dimension", "true").toJSON().find();
    const avatar = assets.find((a) => a.uid === "avatar-aiko-tanaka");
    assert.deepEqual(avatar.dimension, { height: 96, width: 96 });
    assert.ok(avatar.url.startsWith(`https://127.0.0.1:${port}/`), avatar.url);
    const one = await Stack.Assets("avatar-aiko-tanaka").addParam("include_metadata", "true").toJSON().fetch();
    assert.deepEqual(one._metadata, { extensions: {} });
  },
  async "taxonomies: entries by hierarchy"() {
    const [below] = await Stack.Taxonomies().equalAndBelow("taxonomies.topics", "engineering").toJSON().find();
    assert.ok(below.length > 0);
    const family = new Set(["engineering", "frontend", "web-performance", "infrastructure"]);
    const terms = (e) => (e.taxonomies || []).filter((t) => t.taxonomy_uid === "topics").map((t) => t.term_uid);
    assert.ok(below.every((e) => terms(e).some((t) => family.has(t))));
    const [exact] = await Stack.Taxonomies().where("taxonomies.topics", "typography").toJSON().find();
    assert.ok(exact.length > 0 && exact.every((e) => terms(e).includes("typography")));
  },
  async "entry variants"() {
    const shown = await Stack.ContentType("home").Entry("home").variants("cs_personalize_0_0").toJSON().fetch();
    assert.equal(shown.hero.eyebrow, "Welcome back");
    assert.ok(shown.publish_details.variants.returning_readers);
  },
  async "last activities"() {
    const { content_types } = await Stack.getLastActivities();
    const post = content_types.find((ct) => ct.uid === "blog_post");
    const [{ details }] = post.last_activity.environments;
    assert.ok(details.some((d) => d.locale === "en-us" && d.time));
  },
  async "branches and aliases"() {
    const read = (branch) => onBranch(branch).ContentType("blog_post").Entry("typography-for-forms").toJSON().fetch();
    assert.equal((await read("staging")).title, "Typography for forms (develop)");
    assert.equal((await read(null)).title, "Typography for forms");
    await assert.rejects(read("mai"), (err) => err.error_code === 901);
  },
  async "sync"() {
    const first = await Stack.sync({ init: true });
    assert.equal(first.items.length, 100);
    assert.ok(first.total_count > 100);
    assert.ok(first.pagination_token);
    const next = await Stack.sync({ pagination_token: first.pagination_token });
    assert.equal(first.items.length + next.items.length, first.total_count);
    assert.ok(next.sync_token);
  },
};

await runChecks(checks);
