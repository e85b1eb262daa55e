import http from 'node:http';
import { importJWK, jwtVerify } from 'jose';

const key = await importJWK(JSON.parse(process.env.ASSERTION_PUBLIC_JWK), 'EdDSA');
http.createServer(async (req, res) => {
  try {
    const { payload } = await jwtVerify(req.headers['x-jwt-assertion'] ?? '', key, {
      issuer: 'jwt-edge', typ: 'jwt-edge-assertion+jwt', maxTokenAge: 60, clockTolerance: 5 });
    if (payload.method !== req.method || payload.path !== req.url) throw new Error('altered');
    res.end(`hello ${payload.claims.sub}\n`);
  } catch { res.writeHead(401).end(); }
}).listen(Number(process.env.PORT ?? 8080), '127.0.0.1');
