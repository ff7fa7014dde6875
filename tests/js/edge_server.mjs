// Serves a built site through sitegen's generated Launch edge function, as Launch would: each
// request goes to the function, whose fetch() of the origin reads the file from the folder.
//   node edge_server.mjs SITE_FOLDER LAUNCH_FUNCTION.mjs   (prints the port it listens on)
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { pathToFileURL } from "node:url";

const [folder, functionFile] = process.argv.slice(2);
const handler = (await import(pathToFileURL(functionFile).href)).default;
const TYPES = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript",
  ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".xml": "application/xml",
  ".json": "application/json", ".txt": "text/plain" };

globalThis.fetch = async (request) => {
  let path = decodeURIComponent(new URL(request.url).pathname);
  if (path.endsWith("/")) path += "index.html";
  const file = normalize(join(folder, path));
  if (!file.startsWith(normalize(folder))) return new Response("no", { status: 403 });
  try {
    const body = await readFile(file);
    return new Response(body, { headers: { "content-type": TYPES[extname(file)] || "application/octet-stream" } });
  } catch {
    return new Response("not found", { status: 404 });
  }
};

const server = createServer(async (req, res) => {
  const request = new Request(`http://${req.headers.host}${req.url}`, { headers: req.headers });
  const response = await handler(request, {});
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
