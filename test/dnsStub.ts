/**
 * A DNS server for tests: answers A queries for the names it is given (several addresses per name, as Docker's
 * embedded DNS does for a service's replicas), nothing else; the addresses can change while it runs. Lets the proxy
 * configuration of deploy/ find its replicas by name here exactly as it does in docker compose.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export class DnsStub {
  private constructor(private readonly socket: Socket, readonly records: Map<string, string[]>) {}

  static async start(records: Record<string, string[]>): Promise<DnsStub> {
    const socket = createSocket('udp4');
    const stub = new DnsStub(socket, new Map(Object.entries(records).map(([k, v]) => [k.toLowerCase(), v])));
    socket.on('message', (msg, from) => {
      const reply = stub.answer(msg);
      if (reply) socket.send(reply, from.port, from.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return stub;
  }

  get address(): string {
    const a = this.socket.address() as AddressInfo;
    return `${a.address}:${a.port}`;
  }

  /** A reply to one query (RFC 1035 §4.1): the question echoed, one A record per address; null for garbage. */
  answer(query: Buffer): Buffer | null {
    if (query.length < 17) return null;
    let at = 12;
    const labels: string[] = [];
    while (at < query.length && query[at] !== 0) {
      const n = query[at];
      if (n > 63 || at + 1 + n > query.length) return null;
      labels.push(query.subarray(at + 1, at + 1 + n).toString('latin1'));
      at += 1 + n;
    }
    const questionEnd = at + 5;
    if (questionEnd > query.length) return null;
    const type = query.readUInt16BE(at + 1);
    const addresses = this.records.get(labels.join('.').toLowerCase());
    const answers = type === 1 && addresses ? addresses : [];
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // a response, authoritative, recursion as asked; NXDOMAIN for a name it does not know
    header.writeUInt16BE(0x8400 | (query.readUInt16BE(2) & 0x0100) | (addresses ? 0 : 3), 2);
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((ip) => {
      const r = Buffer.alloc(16);
      r.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      r.writeUInt16BE(1, 2); // A
      r.writeUInt16BE(1, 4); // IN
      r.writeUInt32BE(1, 6); // TTL 1 s: a replica that comes or goes is seen at once
      r.writeUInt16BE(4, 10);
      ip.split('.').forEach((x, i) => r.writeUInt8(Number(x), 12 + i));
      return r;
    });
    return Buffer.concat([header, query.subarray(12, questionEnd), ...records]);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
