/* global module */
// knex's configuration for the bench: the database and folder come from the environment.
const url = process.env.BENCH_URL;
const mysql = url.startsWith('mysql');
module.exports = {
  client: mysql ? 'mysql2' : 'pg',
  connection: url,
  migrations: { directory: process.env.BENCH_DIR, loadExtensions: ['.cjs'] },
};
