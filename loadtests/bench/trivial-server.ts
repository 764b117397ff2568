import { createServer } from 'node:net';

// The benchmark's target: a raw TCP server that answers each HTTP request with a
// fixed myhero-app answer, doing far less work per request than an HTTP client
// does, so the load generator (not the server) is what the benchmark measures.
// Run as its own process; prints its port on stdout. With the argument `close`
// it answers like the original myhero's server: `Connection: close`, then it
// closes the socket (one request per connection).

const close = process.argv[2] === 'close';
const answer = (body: string) =>
  Buffer.from(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n${body}`);
const VOTE = answer('{"result": "vote submitted"}');
const OPTIONS = answer('{"options": ["Captain Cloud", "Spider-Man", "Deadpool"]}');
const RESULTS = answer('[]');

const server = createServer((socket) => {
  let pending = '';
  let ended = false;
  socket.setNoDelay(true);
  socket.on('data', (chunk) => {
    // A client that writes on a connection this server is closing gets no answer (and no error).
    if (ended) return;
    pending += chunk.toString('latin1');
    let end: number;
    const out: Buffer[] = [];
    while ((end = pending.indexOf('\r\n\r\n')) !== -1) {
      const head = pending.slice(0, end);
      pending = pending.slice(end + 4);
      const path = head.slice(head.indexOf(' ') + 1, head.indexOf(' ', head.indexOf(' ') + 1));
      out.push(path === '/options' ? OPTIONS : path === '/v2/results' ? RESULTS : VOTE);
      if (close) break;
    }
    if (!out.length) return;
    if (close) {
      ended = true;
      socket.end(out[0]);
    }
    else socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  process.stdout.write(`${typeof addr === 'object' && addr ? addr.port : 0}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
