/** zod schemas of the REST API's input; failures become InputError (400) naming the field. */
import { parseEntityRef, stringifyEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import { z } from 'zod';

export function parse<S extends z.ZodTypeAny>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) =>
    i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message,
  );
  throw new InputError(`invalid request: ${problems.join('; ')}`);
}

const isoTime = z
  .string()
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 time')
  .transform((v) => new Date(v).toISOString());

export const entityRef = z.string().transform((v, ctx) => {
  try {
    return stringifyEntityRef(parseEntityRef(v));
  } catch (err) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `not an entity ref (${(err as Error).message})`,
    });
    return z.NEVER;
  }
});

const name = z.string().min(1).max(255);

const page = {
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(50),
};

export const backupListQuery = z
  .object({
    entityRef: entityRef.optional(),
    repository: name.optional(),
    cluster: name.optional(),
    namespace: name.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    sort: z.enum(['time', 'name', 'namespace', 'size', 'duration']).default('time'),
    order: z.enum(['asc', 'desc']).default('desc'),
    ...page,
  })
  .strict();

export const restoreListQuery = z
  .object({
    entityRef: entityRef.optional(),
    repository: name.optional(),
    namespace: name.optional(),
    outcome: name.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    ...page,
  })
  .strict();

export const auditQuery = z
  .object({
    entityRef: entityRef.optional(),
    repository: name.optional(),
    namespace: name.optional(),
    actor: name.optional(),
    action: name.optional(),
    outcome: name.optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    ...page,
  })
  .strict();

export const scheduleQuery = z.object({ entityRef: entityRef.optional() }).strict();

export const entityPath = z
  .object({ kind: name, namespace: name, name })
  .transform((p) => stringifyEntityRef(p));

export const recordPath = z.object({ repository: name, ref: name });

/** A Kubernetes namespace name (RFC 1123 label). */
const namespaceName = z
  .string()
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
    'must be a namespace name (lower-case letters, digits and -)',
  );

export const backupBody = z
  .object({
    entityRef,
    repository: name.optional(),
    name: z
      .string()
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be lower-case letters, digits, '-' and '.'")
      .optional(),
  })
  .strict();

export const verifyBody = z
  .object({
    entityRef,
    backup: name,
    repository: name.optional(),
    restoreTest: z.boolean().default(false),
  })
  .strict();

export const restoreBody = z
  .object({
    entityRef,
    backup: name,
    repository: name.optional(),
    targetNamespace: namespaceName.optional(),
    policy: z.enum(['skip', 'update', 'recreate']).default('skip'),
    dryRun: z.boolean(),
    dryRunId: z.string().uuid().optional(),
  })
  .strict()
  .refine((b) => b.dryRun || b.dryRunId, {
    message: 'a restore needs a dry run first: give dryRunId of a succeeded dry run (dryRun: true)',
    path: ['dryRunId'],
  });

export const operationPath = z.object({ id: z.string().uuid() });
