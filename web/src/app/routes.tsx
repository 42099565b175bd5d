/**
 * Every page and its URL. The models list is in the first chunk (it is the landing page); every
 * other page is a lazy chunk, loaded when first visited.
 */
import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router';
import { AssetListPage } from '../features/assets/asset-list-page.js';
import { Empty, Skeleton } from '../ui/states.js';

const AssetRouter = lazy(() => import('../features/assets/asset-router.js'));
const RunsPage = lazy(() => import('../features/evals/runs-page.js'));
const RunPage = lazy(() => import('../features/evals/run-page.js'));
const RunComparePage = lazy(() => import('../features/evals/run-compare-page.js'));
const EnvironmentsPage = lazy(() => import('../features/promotions/environments-page.js'));
const PromotionsPage = lazy(() => import('../features/promotions/promotions-page.js'));
const PromotionPage = lazy(() => import('../features/promotions/promotion-page.js'));
const DeploymentsPage = lazy(() => import('../features/deployments/deployments-page.js'));
const DeploymentPage = lazy(() => import('../features/deployments/deployment-page.js'));
const RolloutsPage = lazy(() => import('../features/rollouts/rollouts-page.js'));
const RolloutPage = lazy(() => import('../features/rollouts/rollout-page.js'));
const AuditPage = lazy(() => import('../features/audit/audit-page.js'));

export function AppRoutes() {
  return (
    <Suspense fallback={<Skeleton rows={8} />}>
      <Routes>
        <Route path="/" element={<Navigate to="/models" replace />} />
        <Route path="/models" element={<AssetListPage key="model" kind="model" />} />
        <Route path="/datasets" element={<AssetListPage key="dataset" kind="dataset" />} />
        <Route path="/prompts" element={<AssetListPage key="prompt" kind="prompt" />} />
        <Route path="/models/*" element={<AssetRouter key="model" kind="model" />} />
        <Route path="/datasets/*" element={<AssetRouter key="dataset" kind="dataset" />} />
        <Route path="/prompts/*" element={<AssetRouter key="prompt" kind="prompt" />} />
        <Route path="/evals" element={<RunsPage />} />
        <Route path="/evals/runs/:id" element={<RunPage />} />
        <Route path="/evals/compare" element={<RunComparePage />} />
        <Route path="/environments" element={<EnvironmentsPage />} />
        <Route path="/promotions" element={<PromotionsPage />} />
        <Route path="/promotions/:id" element={<PromotionPage />} />
        <Route path="/deployments" element={<DeploymentsPage />} />
        <Route path="/deployments/:id" element={<DeploymentPage />} />
        <Route path="/rollouts" element={<RolloutsPage />} />
        <Route path="/rollouts/:id" element={<RolloutPage />} />
        <Route path="/audit" element={<AuditPage />} />
        <Route path="*" element={<Empty title="No such page">Check the address, or pick a section in the menu.</Empty>} />
      </Routes>
    </Suspense>
  );
}
