/**
 * `schedules` (the configured ones, synchronised at start-up) and `schedule_runs`. A run first
 * claims its cron slot: `(schedule_id, slot)` is unique, so of several replicas (or a scheduler
 * that fires twice) exactly one runs each slot.
 */
import type { Knex } from 'knex';
import type { ScheduleRun } from '@kubectl-backup/plugin-backup-common';
import type { ScheduleConfig } from '../../config/index.js';
import { compact, optNum, optStr } from '../../database/values.js';

type Row = Record<string, unknown>;

export class ScheduleStore {
  constructor(private readonly knex: Knex) {}

  /** Makes the table hold exactly the configured schedules (runs of removed ones stay). */
  async sync(
    schedules: ScheduleConfig[],
    nextRun: (s: ScheduleConfig) => string | undefined,
  ): Promise<void> {
    await this.knex.transaction(async (tx) => {
      const names = schedules.map((s) => s.name);
      await tx('schedules').whereNotIn('id', names).delete();
      for (const s of schedules) {
        await tx('schedules')
          .insert({
            id: s.name,
            entity_ref: s.entity ?? null,
            cluster: s.cluster ?? null,
            namespace: s.namespace ?? null,
            cron: s.cron,
            repository: s.repository,
            retention: s.retention ? JSON.stringify(s.retention) : null,
            next_run_at: nextRun(s) ?? null,
          })
          .onConflict('id')
          .merge([
            'entity_ref',
            'cluster',
            'namespace',
            'cron',
            'repository',
            'retention',
            'next_run_at',
          ]);
      }
    });
  }

  /** Claims a slot; the run's id, or undefined when another run has it already. */
  async claim(
    schedule: string,
    slot: string,
    startedAt: string,
    instance: string,
  ): Promise<number | undefined> {
    const rows = (await this.knex('schedule_runs')
      .insert({ schedule_id: schedule, slot, started_at: startedAt, instance })
      .onConflict(['schedule_id', 'slot'])
      .ignore()
      .returning('id')) as Array<{ id: number } | number>;
    const first = rows[0];
    if (first === undefined) return undefined;
    return typeof first === 'number' ? first : Number(first.id);
  }

  async finish(
    runId: number,
    schedule: string,
    run: {
      outcome: 'success' | 'failure';
      backup?: string;
      forgotten?: number;
      error?: string;
      finishedAt: string;
      nextRun?: string;
    },
  ): Promise<void> {
    await this.knex('schedule_runs')
      .where({ id: runId })
      .update({
        finished_at: run.finishedAt,
        outcome: run.outcome,
        backup: run.backup ?? null,
        forgotten: run.forgotten ?? null,
        error: run.error ?? null,
      });
    await this.knex('schedules')
      .where({ id: schedule })
      .update({ last_run_at: run.finishedAt, next_run_at: run.nextRun ?? null });
  }

  /** The newest run of each schedule. */
  async lastRuns(): Promise<Map<string, ScheduleRun>> {
    const rows = (await this.knex('schedule_runs as r')
      .join(
        this.knex('schedule_runs')
          .select('schedule_id')
          .max({ slot: 'slot' })
          .groupBy('schedule_id')
          .as('m'),
        function on() {
          this.on('r.schedule_id', '=', 'm.schedule_id').andOn('r.slot', '=', 'm.slot');
        },
      )
      .select('r.*')) as Row[];
    return new Map(
      rows.map((r) => [
        String(r.schedule_id),
        compact({
          slot: String(r.slot),
          startedAt: String(r.started_at),
          finishedAt: optStr(r.finished_at),
          outcome: optStr(r.outcome),
          backup: optStr(r.backup),
          forgotten: optNum(r.forgotten),
          error: optStr(r.error),
        }),
      ]),
    );
  }

  async runs(
    schedule: string,
  ): Promise<Array<{ slot: string; instance: string; outcome?: string }>> {
    const rows = (await this.knex('schedule_runs')
      .where({ schedule_id: schedule })
      .orderBy('slot')) as Row[];
    return rows.map((r) =>
      compact({ slot: String(r.slot), instance: String(r.instance), outcome: optStr(r.outcome) }),
    );
  }
}
