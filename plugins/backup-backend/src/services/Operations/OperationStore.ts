/** The `operations` table: operations started from the portal, their progress and result. */
import type { Knex } from 'knex';
import type { Operation, OperationProgress } from '@kubectl-backup/plugin-backup-common';
import { compact, json, optStr } from '../../database/values.js';

type Row = Record<string, unknown>;

function toOperation(r: Row): Operation {
  return compact({
    id: String(r.id),
    kind: String(r.kind) as Operation['kind'],
    status: String(r.status) as Operation['status'],
    entityRef: optStr(r.entity_ref),
    repository: String(r.repository),
    cluster: optStr(r.cluster),
    namespace: optStr(r.namespace),
    actor: String(r.actor),
    params: json<Record<string, unknown>>(r.params, {}),
    progress: r.progress
      ? json<OperationProgress>(r.progress, { phase: '', message: '' })
      : undefined,
    result: r.result ? json<Record<string, unknown>>(r.result, {}) : undefined,
    error: optStr(r.error),
    createdAt: String(r.created_at),
    startedAt: optStr(r.started_at),
    finishedAt: optStr(r.finished_at),
  });
}

export class OperationStore {
  constructor(private readonly knex: Knex) {}

  async create(op: Operation): Promise<void> {
    await this.knex('operations').insert({
      id: op.id,
      kind: op.kind,
      entity_ref: op.entityRef ?? null,
      repository: op.repository,
      cluster: op.cluster ?? null,
      namespace: op.namespace ?? null,
      params: JSON.stringify(op.params),
      actor: op.actor,
      status: op.status,
      created_at: op.createdAt,
    });
  }

  async get(id: string): Promise<Operation | undefined> {
    const row = (await this.knex('operations').where({ id }).first()) as Row | undefined;
    return row ? toOperation(row) : undefined;
  }

  async started(id: string, time: string): Promise<void> {
    await this.knex('operations').where({ id }).update({ status: 'running', started_at: time });
  }

  async progress(id: string, progress: OperationProgress): Promise<void> {
    await this.knex('operations')
      .where({ id })
      .update({ progress: JSON.stringify(progress) });
  }

  async finished(
    id: string,
    outcome: {
      status: 'succeeded' | 'failed';
      result?: Record<string, unknown>;
      error?: string;
      time: string;
    },
  ): Promise<void> {
    await this.knex('operations')
      .where({ id })
      .update({
        status: outcome.status,
        result: outcome.result ? JSON.stringify(outcome.result) : null,
        error: outcome.error ?? null,
        finished_at: outcome.time,
      });
  }

  /** Operations left pending or running by a process that stopped (called at start-up, for this instance's rows only). */
  async failInterrupted(ids: string[], time: string): Promise<void> {
    if (ids.length === 0) return;
    await this.knex('operations')
      .whereIn('id', ids)
      .whereIn('status', ['pending', 'running'])
      .update({ status: 'failed', error: 'interrupted: the backend stopped', finished_at: time });
  }
}
