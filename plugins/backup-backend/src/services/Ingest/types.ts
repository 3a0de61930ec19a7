/** The ingest: reads repositories into the database. */

export interface RepositoryIngestResult {
  repository: string;
  backupsAdded: number;
  backupsRemoved: number;
  restoresAdded: number;
  restoresRemoved: number;
  auditAdded: number;
  /** Backups whose latest verification changed. */
  verificationsUpdated: number;
  auditChainOk: boolean;
  /** Set when the repository could not be read (the others are still ingested). */
  error?: string;
}

/**
 * Whether the run may have changed rows the API reads (so that read caches must be cleared). A
 * failed run counts: its steps commit chunk by chunk, before their counters are set.
 */
export function ingestChangedRows(r: RepositoryIngestResult): boolean {
  return (
    r.error !== undefined ||
    r.backupsAdded +
      r.backupsRemoved +
      r.restoresAdded +
      r.restoresRemoved +
      r.auditAdded +
      r.verificationsUpdated >
      0
  );
}

export interface IngestService {
  /** Reads every configured repository once. Never throws for one bad repository. */
  ingestAll(signal?: AbortSignal): Promise<RepositoryIngestResult[]>;
  /** Reads one repository. */
  ingestRepository(name: string, signal?: AbortSignal): Promise<RepositoryIngestResult>;
}
