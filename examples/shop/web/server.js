// The example shop's web front end: renders the API's product list as a page.
import { createServer } from 'node:http';

const apiUrl = process.env.API_URL ?? 'http://api:8080';
const port = Number(process.env.PORT ?? 8080);

createServer(async (req, res) => {
  if (req.url === '/healthz') return res.writeHead(200).end('ok');
  try {
    const data = await (await fetch(`${apiUrl}/api/products`)).json();
    const items = data.products.map((p) => `<li>${escape(p.name)} — $${p.price.toFixed(2)}</li>`).join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>Shop</title><h1>${escape(data.greeting)}</h1><ul>${items}</ul>`);
  } catch (e) {
    res.writeHead(502, { 'content-type': 'text/plain' }).end(`the API at ${apiUrl} did not answer: ${e.message}`);
  }
}).listen(port, () => console.log(`web listening on :${port}, API at ${apiUrl}`));

function escape(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
