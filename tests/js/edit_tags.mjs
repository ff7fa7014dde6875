// @contentstack/utils' own edit tags for entries (tests/test_edit_tags.py compares sitegen's).
//   node edit_tags.mjs < [{"entry": {...}, "content_type": "...", "locale": "..."}, ...]
// Prints the entries with the library's "$" maps written in (addEditableTags, as objects).
import { addEditableTags } from "@contentstack/utils";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const items = JSON.parse(input);
for (const item of items) addEditableTags(item.entry, item.content_type, true, item.locale);
console.log(JSON.stringify(items.map((item) => item.entry)));
