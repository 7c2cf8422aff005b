import { connect as amqpConnect } from 'amqplib';
import { createConnection } from 'mysql2/promise';

/** A backing service the integration suites need. */
export type ServiceName = 'mysql' | 'amqp';

/** Whether a service answered, and why not when it did not. */
export interface ServiceStatus {
  available: boolean;
  url: string;
  reason?: string;
}

/** URL of the MariaDB/MySQL test database (`CTLPLANE_MYSQL_URL`). */
export const mysqlUrl = (): string => process.env.CTLPLANE_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
/** URL of the RabbitMQ test broker (`CTLPLANE_AMQP_URL`). */
export const amqpUrl = (): string => process.env.CTLPLANE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export const SERVICE_LABEL: Record<ServiceName, string> = { mysql: 'MariaDB/MySQL', amqp: 'RabbitMQ' };
export const SERVICE_START_HINT: Record<ServiceName, string> = {
  mysql:
    'start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd (or set CTLPLANE_MYSQL_URL)',
  amqp: 'start it with: rabbitmq-server -detached (or set CTLPLANE_AMQP_URL)',
};

/** Hide the password of a URL (or of each in a comma-separated list) before it is printed. */
export function maskUrl(url: string): string {
  if (url.includes(',')) return url.split(',').map(maskUrl).join(',');
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable url>';
  }
}

const withTimeout = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([
    p,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms).unref(),
    ),
  ]);

async function probeMysql(urls: string): Promise<void> {
  for (const url of urls.split(',')) await probeOneMysql(url.trim());
}

async function probeOneMysql(url: string): Promise<void> {
  const conn = await withTimeout(createConnection({ uri: url, connectTimeout: 3000 }), 4000, 'connect');
  try {
    await conn.query('SELECT 1');
  } finally {
    await conn.end();
  }
}

async function probeAmqp(url: string): Promise<void> {
  const conn = await withTimeout(amqpConnect(url, { timeout: 3000 }), 4000, 'connect');
  conn.on('error', () => {});
  await conn.close();
}

/** Connect to a service once and report whether it answered. */
export async function probe(name: ServiceName): Promise<ServiceStatus> {
  const url = name === 'mysql' ? mysqlUrl() : amqpUrl();
  try {
    await (name === 'mysql' ? probeMysql(url) : probeAmqp(url));
    return { available: true, url: maskUrl(url) };
  } catch (err) {
    const msg = err instanceof Error ? err.message || err.constructor.name : String(err);
    return { available: false, url: maskUrl(url), reason: msg.replaceAll(url, maskUrl(url)) };
  }
}
