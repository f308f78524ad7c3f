// The rows of a few tables of a SQL database named by URL: PostgreSQL (`postgres://`, `postgresql://`, with
// the pg client) or SQLite (`sqlite:///relative/path`, `sqlite:////absolute/path`, as Django and SQLAlchemy
// URLs write them; with Node's built-in node:sqlite, read-only). Times come back as the database's text, so
// no precision is lost on the way.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SourceError } from './source-error.ts';

export type Row = Record<string, unknown>;

export interface SqlTables {
  /** Every row of `table`; null when the table does not exist. */
  rows(table: string): Promise<Row[] | null>;
  close(): Promise<void>;
}

/** The file a sqlite: URL names: three slashes then a relative path, four for an absolute one. */
export function sqlitePath(url: string): string {
  const rest = url.slice('sqlite://'.length);
  if (!rest.startsWith('/') || rest.length < 2) {
    throw new SourceError('a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path');
  }
  return resolve(decodeURIComponent(rest.slice(1)));
}

export async function openSqlTables(url: string): Promise<SqlTables> {
  if (url.startsWith('sqlite:')) return openSqlite(sqlitePath(url));
  return openPostgres(url);
}

async function openSqlite(path: string): Promise<SqlTables> {
  if (!existsSync(path)) throw new SourceError(`no SQLite database at ${path}`);
  const { DatabaseSync } = await import('node:sqlite');
  let db: InstanceType<typeof DatabaseSync>;
  try {
    db = new DatabaseSync(path, { readOnly: true });
  } catch (error) {
    throw new SourceError(`cannot open the SQLite database ${path}: ${(error as Error).message}`);
  }
  return {
    async rows(table) {
      const found = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
      if (found === undefined) return null;
      return db.prepare(`SELECT * FROM "${table}"`).all() as Row[];
    },
    async close() {
      db.close();
    },
  };
}

const TIMESTAMP_OIDS = new Set([1114, 1184]);

async function openPostgres(url: string): Promise<SqlTables> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        TIMESTAMP_OIDS.has(oid)
          ? (text: string) => text
          : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // A server that goes away later reports through the next query; the event must not be unhandled.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    throw new SourceError(`cannot connect to PostgreSQL: ${(error as Error).message}`);
  }
  return {
    async rows(table) {
      const found = await client.query('SELECT to_regclass($1) AS name', [table]);
      if (found.rows[0]?.name == null) return null;
      return (await client.query(`SELECT * FROM "${table}"`)).rows as Row[];
    },
    async close() {
      await client.end();
    },
  };
}
