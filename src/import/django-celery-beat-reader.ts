// `import --from django-celery-beat`: its tables, read whole (they hold one row per schedule) and joined here,
// so that columns added or missing across django-celery-beat versions do not break the query.
import { type DjangoTables, djangoEntries } from './django-celery-beat-entry.ts';
import type { SourceEntry } from './source-entry.ts';
import { SourceError } from './source-error.ts';
import { openSqlTables, type Row, type SqlTables } from './sql-tables.ts';

const PREFIX = 'django_celery_beat_';

export async function readDjangoCeleryBeat(url: string): Promise<SourceEntry[]> {
  const db = await openSqlTables(url);
  try {
    const tables: DjangoTables = {
      tasks: await required(db, 'periodictask'),
      intervals: (await db.rows(`${PREFIX}intervalschedule`)) ?? [],
      crontabs: (await db.rows(`${PREFIX}crontabschedule`)) ?? [],
      clocked: (await db.rows(`${PREFIX}clockedschedule`)) ?? [],
      solar: (await db.rows(`${PREFIX}solarschedule`)) ?? [],
    };
    return djangoEntries(tables);
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError(`reading the django-celery-beat tables failed: ${(error as Error).message}`);
  } finally {
    await db.close();
  }
}

async function required(db: SqlTables, table: string): Promise<Row[]> {
  const rows = await db.rows(`${PREFIX}${table}`);
  if (rows === null) {
    throw new SourceError(`no table ${PREFIX}${table}: not a django-celery-beat database (or not migrated)`);
  }
  return rows;
}
