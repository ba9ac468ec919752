// The example shop's API: a product list and a health check. No dependencies, so the image is tiny.
import { createServer } from 'node:http';

const products = [
  { id: 'mug', name: 'Mug', price: 12.5 },
  { id: 'shirt', name: 'T-shirt', price: 24 },
  { id: 'sticker', name: 'Sticker pack', price: 4 },
];
const port = Number(process.env.PORT ?? 8080);

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://api');
  if (url.pathname === '/healthz') return send(res, 200, { ok: true });
  if (url.pathname === '/api/products') return send(res, 200, { greeting: process.env.GREETING ?? 'Hello', products });
  return send(res, 404, { error: `no route ${url.pathname}` });
}).listen(port, () => console.log(`api listening on :${port} (LOG_LEVEL=${process.env.LOG_LEVEL ?? 'info'})`));

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
