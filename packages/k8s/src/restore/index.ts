export { planRestore, checkPermissions, type PlanOptions, type PlanItem, type PlanAction, type PlannedVolume, type RestorePlan, type ExistingPolicy } from './plan.js';
export { restoreNamespace, type RestoreNamespaceOptions, type RestoreNamespaceResult } from './apply.js';
export { sanitizeObject, mapNamespace, DROPPED_ANNOTATIONS, type SanitizeOptions } from './sanitize.js';
export { subsetDiff, fullDiff, deepEqual, type FieldChange } from './diff-fields.js';
export { STAGES, stageOf, type StageName } from './order.js';
export { waitReady, notReadyReason, type Readiness } from './wait.js';
