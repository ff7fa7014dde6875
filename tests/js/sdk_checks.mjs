// Contentstack's delivery SDK (@contentstack/delivery-sdk) and @contentstack/utils against
// sitegen's local stack over https, as an existing Next.js or Node app would use them.
// Run by tests/test_sdk_js.py: node sdk_checks.mjs PORT (NODE_EXTRA_CA_CERTS names the CA).
// Prints one line per check, "ok <name>" or "FAIL <name>: <why>", and exits 1 if any failed.
import assert from "node:assert/strict";
import { runChecks } from "./run_checks.mjs";
import contentstack, { QueryOperation, TaxonomyQueryOperation } from "@contentstack/delivery-sdk";
import * as Utils from "@contentstack/utils";
import { DOMParser } from "linkedom";

globalThis.DOMParser = DOMParser; // Utils.render parses HTML-RTE with the DOM's parser

const port = Number(process.argv[2]);
const onBranch = (branch) =>
  contentstack.stack({
    apiKey: "local_example_key",
    deliveryToken: "local_example_token",
    environment: "production",
    host: "127.0.0.1",
    port,
    retryLimit: 1,
    ...(branch ? { branch } : {}),
  });
const stack = onBranch(null);
const posts = () => stack.contentType("blog_post").entry();
const tagged = (e) =>
  new Set((e.taxonomies || []).filter((t) => t.taxonomy_uid === "topics").map((t) => t.term_uid));

const checks = {
  async "content types"() {
    const { content_types } = await stack.contentType().find();
    assert.ok(content_types.some((ct) => ct.uid === "blog_post"));
    const one = await stack.contentType("author").fetch();
    assert.equal(one.uid, "author");
  },
  async "query with count, limit and skip"() {
    const first = await posts().query().includeCount().limit(5).find();
    assert.equal(first.entries.length, 5);
    assert.ok(first.count > 5);
    const second = await posts().query().limit(5).skip(5).find();
    const seen = new Set(first.entries.map((e) => e.uid));
    assert.ok(second.entries.every((e) => !seen.has(e.uid)));
  },
  async "where with operators"() {
    const featured = await posts().query().where("featured", QueryOperation.EQUALS, true).find();
    assert.ok(featured.entries.length > 0);
    assert.ok(featured.entries.every((e) => e.featured === true));
    const short = await posts().query().where("reading_time", QueryOperation.IS_LESS_THAN, 5).find();
    assert.ok(short.entries.length > 0 && short.entries.every((e) => e.reading_time < 5));
    const some = featured.entries.slice(0, 2).map((e) => e.uid);
    const within = await posts().query().where("uid", QueryOperation.INCLUDES, some).find();
    assert.deepEqual(new Set(within.entries.map((e) => e.uid)), new Set(some));
    const regex = await posts().query().regex("title", "^Typography").find();
    assert.deepEqual(regex.entries.map((e) => e.title), ["Typography for forms"]);
  },
  async "includeReference sends include[][] and gets the entries"() {
    const { entries } = await posts().includeReference("author").limit(1).find();
    const author = entries[0].author[0];
    assert.ok(author.title, JSON.stringify(author));
    assert.equal(author._content_type_uid, "author");
  },
  async "single entry, locale fallback"() {
    const uid = "typography-for-forms";
    const entry = await stack
      .contentType("blog_post")
      .entry(uid)
      .includeReference(["author", "categories"])
      .fetch();
    assert.equal(entry.uid, uid);
    assert.equal(entry.author[0].uid, "priya-raman");
    const french = await stack.contentType("blog_post").entry(uid).locale("fr-fr").includeFallback().fetch();
    assert.equal(french.locale, "en-us");
  },
  async "embedded items render with @contentstack/utils"() {
    const { entries } = await posts().includeEmbeddedItems().limit(100).find();
    const entry = entries.find((e) => e._embedded_items && Object.keys(e._embedded_items).length);
    assert.ok(entry, "an entry with embedded items");
    Utils.jsonToHTML({ entry, paths: ["body"] });
    assert.equal(typeof entry.body, "string");
    assert.ok(entry.body.includes("<p>"), entry.body.slice(0, 200));
  },
  async "assets with dimensions"() {
    const { assets } = await stack.asset().includeDimension().includeCount().find();
    assert.equal(assets.length, 20);
    const avatar = assets.find((a) => a.uid === "avatar-aiko-tanaka");
    assert.deepEqual(avatar.dimension, { height: 96, width: 96 });
    const one = await stack.asset("avatar-aiko-tanaka").fetch();
    assert.equal(one.filename, "aiko-tanaka.png");
  },
  async "global fields"() {
    const listed = await stack.globalField().find();
    assert.deepEqual(listed.global_fields.map((g) => g.uid), ["seo"]);
    const seo = await stack.globalField("seo").fetch();
    assert.equal(seo.title, "SEO");
  },
  async "taxonomies: entries by hierarchy"() {
    const below = await stack.taxonomy().where("taxonomies.topics", TaxonomyQueryOperation.EQ_BELOW, "engineering").find();
    assert.ok(below.entries.length > 0);
    const family = new Set(["engineering", "frontend", "web-performance", "infrastructure"]);
    assert.ok(below.entries.every((e) => [...tagged(e)].some((t) => family.has(t))));
    const only = await stack.taxonomy().where("taxonomies.topics", QueryOperation.INCLUDES, ["typography"]).find();
    assert.ok(only.entries.length > 0 && only.entries.every((e) => tagged(e).has("typography")));
  },
  async "entry variants by Personalize alias"() {
    const base = await stack.contentType("home").entry("home").fetch();
    const shown = await stack.contentType("home").entry("home").variants("cs_personalize_0_0").fetch();
    assert.equal(shown.hero.eyebrow, "Welcome back");
    assert.notEqual(base.hero.eyebrow, "Welcome back");
    assert.ok(shown.publish_details.variants.returning_readers);
  },
  async "branches and aliases"() {
    const uid = "typography-for-forms";
    const read = (branch) =>
      onBranch(branch).contentType("blog_post").entry(uid).includeBranch().fetch();
    const main = await read(null);
    assert.deepEqual([main.title, main._branch], ["Typography for forms", "main"]);
    const develop = await read("develop");
    assert.deepEqual([develop.title, develop._branch], ["Typography for forms (develop)", "develop"]);
    const staging = await read("staging"); // an alias of develop
    assert.deepEqual([staging.title, staging._branch], ["Typography for forms (develop)", "develop"]);
    await assert.rejects(read("mai"), (err) => err.error_code === 901 && err.status === 422);
  },
  async "sync"() {
    const all = await stack.sync({}, true);
    assert.ok(all.items.length > 100);
    assert.ok(all.sync_token);
    const authors = await stack.sync({ contentTypeUid: "author", locale: "en-us", type: ["entry_published"] });
    assert.ok(authors.items.length > 0);
    assert.ok(authors.items.every((i) => i.content_type_uid === "author" && i.type === "entry_published"));
  },
};

await runChecks(checks);
