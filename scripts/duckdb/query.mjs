// Runs one SQL statement with DuckDB and prints its rows as a JSON array
// of objects (integers beyond 2^53 and HUGEINTs as strings). Used by the
// tests that open nfcollect's Parquet files with DuckDB
// (collector/parquet_duckdb_test.go); install with `npm install` here.
//
//   node scripts/duckdb/query.mjs "SELECT count(*) AS n FROM 'flows.parquet'"
import { DuckDBInstance } from '@duckdb/node-api';

const sql = process.argv[2];
if (!sql) {
  console.error('usage: node query.mjs SQL');
  process.exit(2);
}
try {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const reader = await conn.runAndReadAll(sql);
  const rows = reader.getRowObjectsJson();
  process.stdout.write(JSON.stringify(rows) + '\n');
} catch (e) {
  console.error(String(e && e.message || e));
  process.exit(1);
}
