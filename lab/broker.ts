import { createServer, type Server } from 'node:net';
import aedesModule from 'aedes';
import type { createBroker } from 'aedes';
import type { Logger } from '../lib/log.ts';
import { listen, urlHost } from '../lib/net.ts';

// The zero-install MQTT broker of the lab: Aedes (MQTT 3.1.1) on a TCP port,
// keeping persistent sessions and their queued QoS 1 messages in memory — what
// Mosquitto does with `persistence false`. `--mqtt-url` replaces it with an
// external broker.

export interface Broker {
  url: string;
  port: number;
  /** Graceful: stop accepting clients, disconnect the connected ones, close. */
  close(): Promise<void>;
}

export async function startBroker(opts: { host: string; port: number; log: Logger }): Promise<Broker> {
  // aedes is CommonJS: its functions hang off the default export at runtime.
  const aedes = (aedesModule as unknown as { createBroker: typeof createBroker }).createBroker();
  aedes.on('clientError', (client, err) => opts.log.debug({ client: client.id, err: err.message }, 'mqtt client error'));
  const server: Server = createServer(aedes.handle);
  const port = await listen(server, opts.port, opts.host, 'the MQTT broker');
  const url = `mqtt://${urlHost(opts.host)}:${port}`;
  opts.log.info({ url }, 'mqtt broker listening');
  return {
    url,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await closed;
    },
  };
}
