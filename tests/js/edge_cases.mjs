// Runs sitegen's generated edge functions under Node against requests (tests/test_variants.py).
//   node edge_cases.mjs NETLIFY.mjs LAUNCH.mjs CASES.json
// CASES.json: [{"url": "...", "cookie": "..." | null}]. Prints a JSON list with, per case, the
// path each function sends the request to: Netlify's returned URL (or null: the page as it is)
// and the path of the request Launch's handler fetches.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [netlifyFile, launchFile, casesFile] = process.argv.slice(2);
const netlify = (await import(pathToFileURL(netlifyFile).href)).default;
const launch = (await import(pathToFileURL(launchFile).href)).default;
const cases = JSON.parse(readFileSync(casesFile, "utf8"));

let fetched = null;
globalThis.fetch = async (request) => {
  fetched = new URL(request.url).pathname;  // the origin Launch would ask: recorded, not called
  return new Response("origin");
};

const results = [];
for (const c of cases) {
  const make = () => new Request(c.url, { headers: c.cookie ? { cookie: c.cookie } : {} });
  const rewritten = await netlify(make(), {});
  fetched = null;
  await launch(make(), {});
  results.push({
    netlify: rewritten instanceof URL ? rewritten.pathname : rewritten ?? null,
    launch: fetched,
  });
}
console.log(JSON.stringify(results));
