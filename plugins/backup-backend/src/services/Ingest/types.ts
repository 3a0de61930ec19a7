/** The ingest: reads repositories into the database. */

export interface RepositoryIngestResult {
  repository: string;
  backupsAdded: number;
  backupsRemoved: number;
  restoresAdded: number;
  restoresRemoved: number;
  auditAdded: number;
  auditChainOk: boolean;
  /** Set when the repository could not be read (the others are still ingested). */
  error?: string;
}

export interface IngestService {
  /** Reads every configured repository once. Never throws for one bad repository. */
  ingestAll(signal?: AbortSignal): Promise<RepositoryIngestResult[]>;
  /** Reads one repository. */
  ingestRepository(name: string, signal?: AbortSignal): Promise<RepositoryIngestResult>;
}
