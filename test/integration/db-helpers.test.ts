import { describe, expect, it } from 'vitest';
import { freshMysql, freshPostgres } from '../helpers/databases.js';

describe('fresh test databases', () => {
  it('creates and drops a PostgreSQL database', async () => {
    const { default: pg } = await import('pg');
    const db = await freshPostgres();
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    const { rows } = await c.query<{ name: string }>('select current_database() as name');
    await c.end();
    expect(rows[0]?.name).toBe(db.name);
    expect(db.name).toMatch(/^maint_t_[0-9a-f]{10}$/);
    await db.drop();
    const probe = new pg.Client({ connectionString: db.url });
    await expect(probe.connect()).rejects.toThrow(/does not exist/);
  });

  it('creates and drops a MySQL/MariaDB database', async () => {
    const mysql = await import('mysql2/promise');
    const db = await freshMysql();
    const c = await mysql.createConnection({ uri: db.url });
    const [rows] = await c.query('select database() as name');
    await c.end();
    expect((rows as Array<{ name: string }>)[0]?.name).toBe(db.name);
    await db.drop();
    await expect(mysql.createConnection({ uri: db.url })).rejects.toThrow(/Unknown database/);
  });
});
