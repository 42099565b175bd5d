/**
 * Builds the prompts feature. The registry must be wired with `promptVersionHook` for kind
 * `prompt` (so a version is checked before it is written); this wires render and diff on top.
 */
import type { Config } from '../../platform/config.js';
import type { AssetsService } from '../assets/assets-service.js';
import { promptRoutes } from './prompts-routes.js';
import { createPromptsService, promptVersionHook } from './prompts-service.js';

export { promptVersionHook };

export function wirePrompts(deps: { assets: AssetsService; config: Config }) {
  const service = createPromptsService({
    assets: deps.assets,
    settings: { defaultSafety: deps.config.promptSafety, compiledCacheEntries: deps.config.promptCacheEntries },
  });
  return { service, routes: promptRoutes(service) };
}
