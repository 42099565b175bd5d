/**
 * The document of one model version as served: the registry's, with what other features
 * contribute to it (the latest evaluation per suite, the environments it is in).
 */
import { VersionResponse } from './assets.js';
import { VersionEvaluations } from './evals.js';
import { VersionEnvironments } from './promotions.js';

export const ModelVersionDocument = VersionResponse.extend({ evaluations: VersionEvaluations, environments: VersionEnvironments }).strict();
export type ModelVersionDocument = import('zod').infer<typeof ModelVersionDocument>;
