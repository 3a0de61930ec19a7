/** A backup's summary (`BackupSummary`, as `toBackup` maps it) as JSON fields of its row. */
import type { JsonFields } from './rowJson.js';

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
      when: 'verification_result',
      object: [
        ['result', col('verification_result')],
        ['time', col('verification_time')],
        ['record', col('verification_record')],
      ],
    },
  ],
  ['error', col('error')],
];
