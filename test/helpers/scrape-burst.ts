/**
 * A burst of concurrent GETs, as a script for `node --input-type=module -e SCRIPT URL N`: N
 * requests at once, each on a connection of its own, from a process of their own (so the burst
 * does not share an event loop with what measures it). Prints `{ "<status or error code>": n }`.
 */
export const BURST_SCRIPT = `
import { request } from 'node:http';
const [url, n] = [process.argv[1], Number(process.argv[2])];
const statuses = {};
await Promise.all(Array.from({ length: n }, () => new Promise((resolve) => {
  const req = request(url, { agent: false }, (res) => {
    res.resume();
    res.on('end', () => { statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1; resolve(); });
  });
  req.on('error', (e) => { statuses[e.code] = (statuses[e.code] ?? 0) + 1; resolve(); });
  req.end();
})));
console.log(JSON.stringify(statuses));
`;
