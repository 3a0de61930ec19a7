/** A backup's summary (`BackupSummary`, as `toBackup` maps it) as JSON fields of its row. */
import type { Knex } from 'knex';
import { jsonColumns, jsonDialect, rowJson, type JsonFields } from './rowJson.js';

const col = (column: string) => ({ column });

export const BACKUP_SUMMARY_JSON: JsonFields = [
  ['repository', col('repository')],
  ['snapshot', col('snapshot')],
  ['name', col('name')],
  ['namespace', col('namespace')],
  ['cluster', col('cluster')],
  ['time', col('time')],
  ['durationMs', col('duration_ms')],
  ['actor', col('actor')],
  ['resources', col('resources')],
  ['volumes', col('volumes')],
  ['volumeBytes', col('volume_bytes')],
  ['sizeTotal', col('size_total')],
  ['sizeAdded', col('size_added')],
  ['storedAdded', col('stored_added')],
  ['warnings', col('warnings')],
  ['tags', { jsonText: 'tags', fallback: '[]' }],
  [
    'verification',
    {
      object: [
        ['result', col('verification_result')],
        ['time', col('verification_time')],
        ['record', col('verification_record')],
      ],
    },
  ],
  ['error', col('error')],
];

/** The columns of a backup's summary (its row but its `warning_list`), which `toBackup` reads. */
export const SUMMARY_COLUMNS = jsonColumns(BACKUP_SUMMARY_JSON);

/** SQL of a backup's summary as JSON text made by the database, where it can (rowJson.ts). */
export function backupSummaryJson(knex: Knex): string | undefined {
  const dialect = jsonDialect(knex);
  return dialect && rowJson(dialect, BACKUP_SUMMARY_JSON);
}
