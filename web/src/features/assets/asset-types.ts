/** The version document as the UI reads it: the registry's fields plus what other features contribute under their own keys. */
import type { VersionResponse } from '../../../../src/contracts/assets.js';
import type { VersionEvaluation } from '../../../../src/contracts/evals.js';
import type { VersionEnvironments } from '../../../../src/contracts/promotions.js';

export type VersionDoc = VersionResponse & { evaluations?: VersionEvaluation[]; environments?: VersionEnvironments };
