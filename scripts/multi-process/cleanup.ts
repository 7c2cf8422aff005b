/**
 * Remove what a deployment left behind: its MySQL tables and its RabbitMQ exchange and queues.
 */
import { connect } from 'amqplib';
import { createConnection, type RowDataPacket } from 'mysql2/promise';

/** Drop tables `<prefix>*`, delete the exchange and shared queues of the deployment. */
export async function cleanup(o: {
  mysql: string;
  amqp: string;
  tablePrefix: string;
  regions: string;
  /** More queues to delete (e.g. other router replicas' queues). */
  queues?: readonly string[];
}): Promise<void> {
  const db = await createConnection({ uri: o.mysql });
  try {
    const [rows] = await db.query<RowDataPacket[]>(
      'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?',
      [`${o.tablePrefix.replaceAll('_', '\\_')}%`],
    );
    for (const r of rows) await db.query(`DROP TABLE IF EXISTS \`${String(r.t)}\``);
  } finally {
    await db.end();
  }
  const conn = await connect(o.amqp);
  try {
    const ch = await conn.createChannel();
    const base = `droplet-cloud.${o.tablePrefix}`;
    const queues = [
      `${base}.reconcile`,
      ...o.regions.split(',').map((r) => `${base}.router.${r}`),
      ...(o.queues ?? []),
    ];
    for (const q of queues) await ch.deleteQueue(q);
    await ch.deleteExchange(base);
    await ch.deleteExchange(`${base}.dead-letter`);
    await ch.close();
  } finally {
    await conn.close();
  }
}
