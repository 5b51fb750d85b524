import { createServer, connect, Server, Socket } from 'node:net';

/**
 * A TCP relay in front of a Redis master that can hold back what the master streams to its
 * replicas, as a slow or congested link would. Replication is asynchronous: writes the clients
 * saw acknowledged then never reach the replica, and a failover loses them for real.
 */
export class ReplicationRelay {
  private readonly sockets = new Set<Socket>();
  /** The master-side sockets of replication links (a replica's connection that sent PSYNC). */
  private readonly links = new Set<Socket>();
  private held = false;

  private constructor(private readonly server: Server) {}

  static start(targetPort: number): Promise<ReplicationRelay> {
    return new Promise((resolve, reject) => {
      const server = createServer((client) => relay.relay(client, targetPort));
      const relay = new ReplicationRelay(server);
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve(relay));
    });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** From now on the replicas receive nothing more from the master. */
  holdReplication(): void {
    this.held = true;
    for (const link of this.links) link.pause();
  }

  /** Closes every connection, dropping what the links held back. */
  destroy(): void {
    this.server.close();
    for (const socket of this.sockets) socket.destroy();
  }

  private relay(client: Socket, targetPort: number): void {
    const upstream = connect(targetPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let replication = false;
    client.on('data', (chunk) => {
      // RESP `*3\r\n$5\r\nPSYNC\r\n…`: the replica asking for the replication stream.
      if (!replication && /PSYNC|\nSYNC\r/.test(chunk.toString('latin1'))) {
        replication = true;
        this.links.add(upstream);
        if (this.held) upstream.pause();
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    const close = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      this.links.delete(upstream);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
  }
}
