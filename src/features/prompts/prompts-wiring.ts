/**
 * The prompts module: prompt versions are registry versions checked by `promptVersionHook`
 * (registered for kind `prompt`, so a version is checked before it is written); render and diff
 * on top.
 */
import { defineModule } from '../../platform/module.js';
import { promptRoutes } from './prompts-routes.js';
import { createPromptsService, promptVersionHook, type PromptsService } from './prompts-service.js';

declare module '../../platform/module.js' {
  interface Provided {
    prompts: PromptsService;
  }
}

export const promptsModule = defineModule({
  name: 'prompts',
  needs: ['assets'],
  setup({ config, need }) {
    const assets = need('assets');
    assets.registerKindHook('prompt', promptVersionHook);
    const service = createPromptsService({
      assets,
      settings: { defaultSafety: config.promptSafety, compiledCacheEntries: config.promptCacheEntries },
    });
    return { provides: service, routes: () => promptRoutes(service) };
  },
});
